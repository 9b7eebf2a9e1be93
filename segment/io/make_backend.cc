// make_backend(): which backend a shard runs on (see backend.h).

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "segment/io/backend.h"
#include "segment/io/pwrite_backend.h"
#include "segment/io/uring_backend.h"

namespace sluice::io {

namespace {

backend_kind kind_from_environment() {
  const char* value = std::getenv(backend_env_var);
  if (value == nullptr) return backend_kind::automatic;
  const std::string_view v(value);
  if (v.empty() || v == "automatic") return backend_kind::automatic;
  if (v == "io_uring") return backend_kind::io_uring;
  if (v == "pwrite") return backend_kind::pwrite;
  throw std::runtime_error(std::string(backend_env_var) + "=" + std::string(v) +
                           ": expected pwrite, io_uring or automatic");
}

std::unique_ptr<filesystem_syncer> open_syncer(const std::filesystem::path& root) {
  return root.empty() ? nullptr : filesystem_syncer::open(root);
}

}  // namespace

std::unique_ptr<backend> make_backend(boost::asio::io_context& ctx, backend_kind kind,
                                      const std::filesystem::path& sync_root) {
  if (kind == backend_kind::automatic) kind = kind_from_environment();
  if (kind == backend_kind::pwrite) {
    return std::make_unique<pwrite_backend>(ctx, open_syncer(sync_root));
  }
  auto ring = uring_backend::create(
      ctx, {.entries = uring_backend::default_entries,
            .inline_write_max_bytes = uring_backend::default_inline_write_max_bytes,
            .syncer = open_syncer(sync_root)});
  if (ring) return std::move(*ring);
  if (kind == backend_kind::io_uring) {
    throw std::runtime_error("cannot set up the io_uring backend: " + ring.error().message());
  }
  spdlog::warn("io_uring is unavailable ({}); using the pwrite backend", ring.error().message());
  return std::make_unique<pwrite_backend>(ctx, open_syncer(sync_root));
}

}  // namespace sluice::io
