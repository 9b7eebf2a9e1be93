#include "protocol/compression.h"

#include <fmt/format.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <boost/system/errc.hpp>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "protocol/errc.h"

namespace sluice {
namespace {

struct cctx_deleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct dctx_deleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// One context per thread: creating one costs more than compressing a small batch, and each shard
// is one thread.
ZSTD_CCtx* thread_cctx() {
  thread_local const std::unique_ptr<ZSTD_CCtx, cctx_deleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}

ZSTD_DCtx* thread_dctx() {
  thread_local const std::unique_ptr<ZSTD_DCtx, dctx_deleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

error no_context() {
  return make_error(boost::system::errc::not_enough_memory, "zstd: cannot create a context");
}

error zstd_unavailable(std::size_t code) {
  const auto e = ZSTD_getErrorCode(code) == ZSTD_error_memory_allocation
                     ? boost::system::errc::not_enough_memory
                     : boost::system::errc::invalid_argument;
  return make_error(e, fmt::format("zstd: {}", ZSTD_getErrorName(code)));
}

error decompression_error(std::string what) {
  return make_error(protocol_errc::decompression_failed, "zstd: " + std::move(what));
}

error too_large(std::size_t max_output_bytes, std::size_t input_size) {
  return decompression_error(fmt::format("output exceeds the limit of {} bytes (input {} bytes)",
                                         max_output_bytes, input_size));
}

// The first frame's declared content size, if its header has one.
std::optional<unsigned long long> declared_size(byte_span input) {
  const unsigned long long n = ZSTD_getFrameContentSize(input.data(), input.size());
  if (n == ZSTD_CONTENTSIZE_UNKNOWN || n == ZSTD_CONTENTSIZE_ERROR) return std::nullopt;
  return n;
}

// Where to start the output: the declared size when there is one, else a guess; never more than
// the cap, so a lying header cannot make us allocate.
std::size_t initial_output_size(byte_span input, std::size_t cap) {
  const auto declared = declared_size(input);
  const unsigned long long guess =
      declared ? *declared : std::max<std::size_t>(4 * input.size(), 4096);
  return static_cast<std::size_t>(std::min<unsigned long long>(guess, cap));
}

}  // namespace

result<byte_buffer> zstd_compress(byte_span input, int level) {
  ZSTD_CCtx* ctx = thread_cctx();
  if (ctx == nullptr) return no_context();
  byte_buffer out(ZSTD_compressBound(input.size()));
  const std::size_t n =
      ZSTD_compressCCtx(ctx, out.data(), out.size(), input.data(), input.size(), level);
  if (ZSTD_isError(n)) return zstd_unavailable(n);
  out.resize(n);
  return out;
}

result<byte_buffer> zstd_decompress(byte_span input, std::size_t max_output_bytes) {
  ZSTD_DCtx* ctx = thread_dctx();
  if (ctx == nullptr) return no_context();
  if (const auto declared = declared_size(input); declared && *declared > max_output_bytes) {
    return too_large(max_output_bytes, input.size());
  }
  ZSTD_DCtx_reset(ctx, ZSTD_reset_session_only);
  // One byte more than allowed: producing it proves the output is too large.
  const std::size_t cap = max_output_bytes == std::numeric_limits<std::size_t>::max()
                              ? max_output_bytes
                              : max_output_bytes + 1;
  byte_buffer out(initial_output_size(input, cap));
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  std::size_t produced = 0;
  for (;;) {
    if (produced == out.size()) {
      if (produced > max_output_bytes) return too_large(max_output_bytes, input.size());
      out.resize(std::min(cap, std::max<std::size_t>(2 * out.size(), 4096)));
    }
    ZSTD_outBuffer ob{out.data(), out.size(), produced};
    const std::size_t ret = ZSTD_decompressStream(ctx, &ob, &in);
    if (ZSTD_isError(ret)) {
      return decompression_error(
          fmt::format("{} after {} of {} input bytes", ZSTD_getErrorName(ret), in.pos, in.size));
    }
    produced = ob.pos;
    const bool input_done = in.pos == in.size;
    if (ret == 0 && input_done) break;
    if (input_done && ob.pos < ob.size) {
      return decompression_error(
          fmt::format("input ends inside a frame ({} bytes given)", input.size()));
    }
  }
  if (produced > max_output_bytes) return too_large(max_output_bytes, input.size());
  out.resize(produced);
  return out;
}

}  // namespace sluice
