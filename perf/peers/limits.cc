// sluice-compare-limits: what this machine allows, measured in the same run as the systems.
//
//   disk --dir D [--bytes N] [--chunk C] [--direct 1]
//       sequential pwrite of N bytes (default 1 GiB) in C-byte chunks (default 1 MiB) to a
//       fresh file in D, then one fdatasync; MB/s = N / (first write to the end of the
//       fdatasync). The file is deleted afterwards. --direct 1: the file is opened O_DIRECT
//       (C a multiple of 4096), so the bytes go from one reused buffer to the device without
//       the page cache. Through the page cache the figure is also the pace at which this VM's
//       host backs fresh pages, which in its slow spells is well below the disk's
//       (perf/RESULTS.md, "Page cache drop-behind").
//   tcp [--seconds S] [--chunk C]
//       loopback TCP between two processes: a forked child connects and writes C-byte chunks
//       (default 1 MiB) for S seconds (default 3); the parent reads and counts; MB/s of bytes
//       received.
//
// (fdatasync latency percentiles come from `sluice-bench fsync --write-bytes 4096`.)
// One JSON line with the fields of driver_common.h (records = chunks).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "perf/peers/driver_common.h"

namespace sluice::compare {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

int disk(const options& o) {
  const std::filesystem::path file =
      std::filesystem::path(o.str("dir", ".")) / fmt::format("disk-limit.{}", ::getpid());
  const auto total = static_cast<std::uint64_t>(o.num("bytes", 1 << 30));
  const auto chunk = static_cast<std::size_t>(o.num("chunk", 1 << 20));
  const bool direct = o.num("direct", 0) != 0;
  if (direct && chunk % 4096 != 0) throw std::runtime_error("--direct needs --chunk in 4 KiB");
  // O_DIRECT wants the buffer aligned too.
  std::unique_ptr<char, decltype(&std::free)> buf(
      static_cast<char*>(std::aligned_alloc(4096, (chunk + 4095) / 4096 * 4096)), &std::free);
  if (!buf) fail("aligned_alloc");
  for (std::size_t i = 0; i < chunk; ++i) buf.get()[i] = static_cast<char>('a' + i % 26);
  const int flags = O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | (direct ? O_DIRECT : 0);
  const int fd = ::open(file.c_str(), flags, 0644);
  if (fd < 0) fail("open " + file.string());
  const auto start = clock::now();
  std::uint64_t written = 0, chunks = 0;
  while (written < total) {
    const auto n = ::pwrite(fd, buf.get(), chunk, static_cast<off_t>(written));
    if (n <= 0) fail("pwrite");
    written += static_cast<std::uint64_t>(n);
    ++chunks;
  }
  const auto written_at = clock::now();
  if (::fdatasync(fd) != 0) fail("fdatasync");
  const auto end = clock::now();
  ::close(fd);
  std::filesystem::remove(file);
  const std::chrono::duration<double> took = end - start;
  const std::chrono::duration<double> sync = end - written_at;
  print_figures("limit", direct ? "disk-direct" : "disk", chunks, written, 0, took.count(), nullptr,
                {{"fdatasync_seconds", sync.count()}});
  return 0;
}

int tcp(const options& o) {
  const double seconds = o.num("seconds", 3);
  const auto chunk = static_cast<std::size_t>(o.num("chunk", 1 << 20));
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0) fail("bind");
  if (::listen(listener, 1) != 0) fail("listen");
  if (::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) fail("getsockname");
  const pid_t child = ::fork();
  if (child < 0) fail("fork");
  if (child == 0) {  // the writer
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(s, reinterpret_cast<sockaddr*>(&addr), len) != 0) ::_exit(1);
    std::vector<char> buf(chunk, 'x');
    const auto start = clock::now();
    while (clock::now() - start < std::chrono::duration<double>(seconds)) {
      std::size_t off = 0;
      while (off < chunk) {
        const auto n = ::write(s, buf.data() + off, chunk - off);
        if (n <= 0) ::_exit(1);
        off += static_cast<std::size_t>(n);
      }
    }
    ::close(s);
    ::_exit(0);
  }
  const int s = ::accept(listener, nullptr, nullptr);
  if (s < 0) fail("accept");
  std::vector<char> buf(chunk);
  std::uint64_t received = 0;
  const auto start = clock::now();
  for (;;) {
    const auto n = ::read(s, buf.data(), chunk);
    if (n < 0) fail("read");
    if (n == 0) break;
    received += static_cast<std::uint64_t>(n);
  }
  const std::chrono::duration<double> took = clock::now() - start;
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(s);
  ::close(listener);
  print_figures("limit", "tcp", received / chunk, received, 0, took.count(), nullptr);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

}  // namespace
}  // namespace sluice::compare

int main(int argc, char** argv) {
  try {
    const sluice::compare::options o(argc, argv);
    if (o.mode() == "disk") return sluice::compare::disk(o);
    if (o.mode() == "tcp") return sluice::compare::tcp(o);
    fmt::print(stderr, "sluice-compare-limits: unknown mode {}\n", o.mode());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "sluice-compare-limits: {}\n", e.what());
    return 1;
  }
}
