#pragma once
// The background thread a client library runs its connections on: one io_context, one thread,
// started on construction and joined on destruction. Public client methods may be called from
// any thread; they hand work to this thread with post() or call() and never touch connections
// themselves.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <string>
#include <thread>
#include <type_traits>

#include "protocol/result.h"

namespace sluice {

class io_thread {
 public:
  explicit io_thread(std::string name = "sluice-io");
  ~io_thread();  // stops the loop (pending handlers are dropped) and joins
  io_thread(const io_thread&) = delete;
  io_thread& operator=(const io_thread&) = delete;

  [[nodiscard]] boost::asio::io_context& context() { return ctx_; }
  [[nodiscard]] boost::asio::any_io_executor executor() { return ctx_.get_executor(); }
  [[nodiscard]] bool on_this_thread() const {
    return std::this_thread::get_id() == thread_.get_id();
  }

  template <class F>
  void post(F&& f) {
    boost::asio::post(ctx_, std::forward<F>(f));
  }

  // Runs f on the io thread and waits for its return value. REQUIRES: not on the io thread, and
  // stop() not called (f would never run, and the caller would wait forever): both assert.
  template <class F>
  auto call(F&& f) -> std::invoke_result_t<F> {
    SLUICE_ASSERT(!stopped_.load(std::memory_order_acquire));
    SLUICE_ASSERT(!on_this_thread());
    using R = std::invoke_result_t<F>;
    std::packaged_task<R()> task(std::forward<F>(f));
    auto fut = task.get_future();
    boost::asio::post(ctx_, [&task] { task(); });
    return fut.get();
  }

  // Stops the loop and joins; idempotent. Called by the destructor.
  void stop();

 private:
  std::atomic<bool> stopped_{false};
  boost::asio::io_context ctx_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace sluice
