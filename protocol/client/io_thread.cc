#include "protocol/client/io_thread.h"

#include <pthread.h>

namespace sluice {

io_thread::io_thread(std::string name)
    : work_(boost::asio::make_work_guard(ctx_)), thread_([this, name = std::move(name)] {
        pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
        ctx_.run();
      }) {}

io_thread::~io_thread() {
  stop();
}

void io_thread::stop() {
  stopped_.store(true, std::memory_order_release);
  work_.reset();
  ctx_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sluice
