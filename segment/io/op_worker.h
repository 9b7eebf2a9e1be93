#pragma once
// A thread that runs a backend's blocking syscalls outside its io_context: the pwrite backend's
// worker, and the io_uring backend's syncfs thread.
//
// Ops are submitted in order on the io_context thread. Each time the worker wakes it takes every
// op submitted since, as one batch, and hands it to the backend's serve function, which runs the
// syscalls and passes each op to finish() once its record() returned done; finish() posts the
// handlers back to the io_context. Taking the batch whole is what lets a serve function answer
// many requests with one syscall (one syncfs for every filesystem sync waiting).
//
// Like asio's own I/O objects, the worker counts as work for the io_context while any op is
// outstanding, so run() does not return before their handlers have run.
//
// Threading: construct, submit() and destroy on the io_context thread; the serve function,
// finish() and stop_requested() on the worker thread. Handlers run on the io_context thread,
// never inline. The io_context must outlive the worker.

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "segment/io/alive_token.h"
#include "segment/io/pending_op.h"

namespace sluice::io {

class filesystem_syncer;

class op_worker {
 public:
  using batch = std::vector<std::unique_ptr<pending_op>>;
  // Serves `taken` (never empty, in submission order). Ops not passed to finish() are dropped,
  // their handlers uncalled: only right to do once stop_requested().
  using serve_fn = std::function<void(batch taken)>;
  // Runs on the io_context thread for each finished op; by default its handler.
  using complete_fn = std::function<void(std::unique_ptr<pending_op> op)>;

  // Starts the thread, named `thread_name` (at most 15 characters).
  op_worker(boost::asio::io_context& ctx, std::string thread_name, serve_fn serve,
            complete_fn complete = nullptr);
  // Waits for the batch being served to return; ops not yet taken are dropped uncalled, except
  // closes, which are made here.
  ~op_worker();
  op_worker(const op_worker&) = delete;
  op_worker& operator=(const op_worker&) = delete;

  void submit(std::unique_ptr<pending_op> op);

  // Worker thread: posts the handlers of `done` (each op's record() returned done), in order.
  void finish(batch done);
  // Worker thread: the destructor is waiting; a long batch should stop between syscalls.
  [[nodiscard]] bool stop_requested() const { return stopping_.load(std::memory_order_relaxed); }

 private:
  using work_guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

  void run();
  void complete(batch& done);  // io_context thread

  boost::asio::io_context& ctx_;
  std::string thread_name_;
  serve_fn serve_;
  complete_fn complete_one_;
  alive_token alive_;
  std::weak_ptr<void> owner_ = alive_.watch();  // for finish(), taken on the io_context thread
  std::size_t outstanding_ = 0;                 // submitted, handler not yet run; io thread only
  std::optional<work_guard> busy_;              // held while outstanding_ > 0
  std::mutex mutex_;
  std::condition_variable wake_;
  batch waiting_;                      // guarded by mutex_
  std::atomic<bool> stopping_{false};  // set under mutex_, so the wait below cannot miss it
  std::thread thread_;                 // declared last: starts once everything above exists
};

// The serve function of both backends' workers: each op in turn (run_to_completion), its
// handler posted as soon as it is done; the filesystem syncs among them wait for the others,
// then one syncfs of `syncer` serves them all. A later sync covers at least what an earlier one
// would have, so moving them back keeps every sync after the writes it must cover. Once the
// worker is stopping, what is left is dropped, closes excepted (a descriptor would leak).
// `syncer` may be null when no filesystem sync is ever submitted.
void serve_one_by_one(op_worker& worker, filesystem_syncer* syncer, op_worker::batch taken);

}  // namespace sluice::io
