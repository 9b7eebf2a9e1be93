#include "segment/io/pwrite_backend.h"

#include <utility>

#include "segment/io/sync_file_ops.h"

namespace sluice::io {

pwrite_backend::pwrite_backend(boost::asio::io_context& ctx,
                               std::unique_ptr<filesystem_syncer> syncer)
    : syncer_(std::move(syncer)), worker_(ctx, "pwrite-io", [this](op_worker::batch taken) {
        serve_one_by_one(worker_, syncer_.get(), std::move(taken));
      }) {}

pwrite_backend::~pwrite_backend() = default;

void pwrite_backend::async_write_at(int fd, std::uint64_t pos, write_buffers data,
                                    std::string_view what, write_handler handler) {
  worker_.submit(pending_op::write(fd, pos, data, what, std::move(handler)));
}

void pwrite_backend::async_datasync(int fd, std::string_view what, sync_handler handler) {
  worker_.submit(pending_op::sync(fd, what, std::move(handler)));
}

void pwrite_backend::async_fsync(int fd, std::string_view what, sync_handler handler) {
  worker_.submit(pending_op::sync(fd, what, std::move(handler), sync_kind::full));
}

void pwrite_backend::async_sync_filesystem(int fd, std::string_view what, sync_handler handler) {
  worker_.submit(
      pending_op::sync(fd, what, std::move(handler), filesystem_sync_kind(syncer_.get(), fd)));
}

void pwrite_backend::async_start_writeback(int fd, std::uint64_t from, std::uint64_t length,
                                           std::string_view what, sync_handler handler) {
  worker_.submit(pending_op::writeback(fd, from, length, what, std::move(handler)));
}

void pwrite_backend::close_later(int fd, std::string_view what) {
  worker_.submit(pending_op::close(fd, what));
}

void pwrite_backend::drop_cache_later(int fd, std::uint64_t from, std::uint64_t length,
                                      std::string_view what) {
  if (auto op = pending_op::drop_cache(fd, from, length, what)) worker_.submit(std::move(op));
}

result<std::size_t> pwrite_backend::read_at(int fd, std::uint64_t pos, std::span<std::byte> out,
                                            std::string_view what) {
  return sync_ops::read_at(fd, pos, out, what);
}

result<void> pwrite_backend::truncate(int fd, std::uint64_t size, std::string_view what) {
  return sync_ops::truncate(fd, size, what);
}

result<void> pwrite_backend::datasync(int fd, std::string_view what) {
  return sync_ops::datasync(fd, what);
}

}  // namespace sluice::io
