// Backend selection: automatic probing and the SLUICE_IO_BACKEND override.

#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>

#include "segment/io/backend.h"
#include "tests/segment/io/io_test_util.h"

namespace sluice::io::test {
namespace {

// Sets SLUICE_IO_BACKEND for one scope and restores the previous value.
class scoped_backend_env {
 public:
  explicit scoped_backend_env(const char* value) {
    if (const char* old = std::getenv(backend_env_var)) old_ = old;
    ::setenv(backend_env_var, value, 1);
  }
  ~scoped_backend_env() {
    if (old_) {
      ::setenv(backend_env_var, old_->c_str(), 1);
    } else {
      ::unsetenv(backend_env_var);
    }
  }
  scoped_backend_env(const scoped_backend_env&) = delete;
  scoped_backend_env& operator=(const scoped_backend_env&) = delete;

 private:
  std::optional<std::string> old_;
};

TEST_CASE("SLUICE_IO_BACKEND=pwrite makes automatic choose pwrite") {
  boost::asio::io_context ctx;
  scoped_backend_env env("pwrite");
  CHECK(make_backend(ctx)->name() == "pwrite");
}

TEST_CASE("SLUICE_IO_BACKEND=io_uring makes automatic choose io_uring") {
  boost::asio::io_context ctx;
  scoped_backend_env env("io_uring");
  CHECK(make_backend(ctx)->name() == "io_uring");
}

TEST_CASE("automatic chooses io_uring where the kernel allows it") {
  boost::asio::io_context ctx;
  scoped_backend_env env("automatic");
  CHECK(make_backend(ctx, backend_kind::automatic)->name() == "io_uring");
}

TEST_CASE("SLUICE_IO_BACKEND does not override an explicit kind") {
  boost::asio::io_context ctx;
  scoped_backend_env env("pwrite");
  CHECK(make_backend(ctx, backend_kind::io_uring)->name() == "io_uring");
}

TEST_CASE("an unknown SLUICE_IO_BACKEND value is refused with a clear error") {
  boost::asio::io_context ctx;
  scoped_backend_env env("epoll");
  CHECK_THROWS_WITH_AS(make_backend(ctx),
                       "SLUICE_IO_BACKEND=epoll: expected pwrite, io_uring or automatic",
                       std::runtime_error);
}

}  // namespace
}  // namespace sluice::io::test
