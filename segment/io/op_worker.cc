#include "segment/io/op_worker.h"

#include <pthread.h>

#include <utility>

#include "segment/io/filesystem_syncer.h"

namespace sluice::io {

op_worker::op_worker(boost::asio::io_context& ctx, std::string thread_name, serve_fn serve,
                     complete_fn complete)
    : ctx_(ctx),
      thread_name_(std::move(thread_name)),
      serve_(std::move(serve)),
      complete_one_(std::move(complete)),
      thread_([this] { run(); }) {}

op_worker::~op_worker() {
  batch dropped;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    dropped.swap(waiting_);
  }
  wake_.notify_one();
  thread_.join();
  // A dropped close would leak its descriptor (and keep a deleted file's blocks): it still runs.
  for (const auto& op : dropped) {
    if (op->kind == op_kind::close) (void)run_close(*op);
  }
}

void op_worker::submit(std::unique_ptr<pending_op> op) {
  if (outstanding_++ == 0) busy_.emplace(ctx_.get_executor());
  {
    std::lock_guard lock(mutex_);
    waiting_.push_back(std::move(op));
  }
  wake_.notify_one();
}

void op_worker::run() {
  pthread_setname_np(pthread_self(), thread_name_.c_str());
  for (;;) {
    batch taken;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
      if (stopping_) return;
      taken.swap(waiting_);
    }
    serve_(std::move(taken));
  }
}

void op_worker::finish(batch done) {
  if (done.empty()) return;
  // asio copies handlers in some paths; the batch of move-only ops travels behind a shared_ptr.
  post_while_alive(ctx_, owner_,
                   [this, done = std::make_shared<batch>(std::move(done))] { complete(*done); });
}

void op_worker::complete(batch& done) {
  outstanding_ -= done.size();
  if (outstanding_ == 0) busy_.reset();
  for (auto& op : done) {
    if (complete_one_) {
      complete_one_(std::move(op));
    } else {
      op->run_handler();
    }
  }
}

void serve_one_by_one(op_worker& worker, filesystem_syncer* syncer, op_worker::batch taken) {
  op_worker::batch filesystem_syncs;
  for (auto& op : taken) {
    if (worker.stop_requested() && op->kind != op_kind::close) continue;
    if (op->kind == op_kind::sync && op->sync_what == sync_kind::filesystem) {
      filesystem_syncs.push_back(std::move(op));
      continue;
    }
    run_to_completion(*op);
    op_worker::batch done;
    done.push_back(std::move(op));
    worker.finish(std::move(done));
  }
  if (filesystem_syncs.empty() || worker.stop_requested()) return;
  syncer->serve(filesystem_syncs);
  worker.finish(std::move(filesystem_syncs));
}

}  // namespace sluice::io
