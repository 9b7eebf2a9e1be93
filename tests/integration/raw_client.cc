#include "tests/integration/raw_client.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "protocol/frame.h"

namespace sluice::testing {

raw_client::raw_client(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error(fmt::format("connect to port {}: {}", port, std::strerror(errno)));
  }
}

raw_client::~raw_client() {
  if (fd_ >= 0) ::close(fd_);
}

bool raw_client::send_bytes(byte_span bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool raw_client::send(request_builder req, std::uint64_t request_id, std::uint16_t version) {
  req.finish(request_id, version, "raw");
  std::vector<boost::asio::const_buffer> buffers;
  req.append_buffers(buffers);
  for (const auto& b : buffers) {
    if (!send_bytes({static_cast<const std::byte*>(b.data()), b.size()})) return false;
  }
  return true;
}

bool raw_client::read_exact(std::byte* out, std::size_t n,
                            std::chrono::steady_clock::time_point deadline) {
  std::size_t done = 0;
  while (done < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    ssize_t r = ::recv(fd_, out + done, n - done, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<std::size_t>(r);
  }
  return true;
}

std::optional<response_frame> raw_client::read_response(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::array<std::byte, frame_format::prefix_size> prefix{};
  if (!read_exact(prefix.data(), prefix.size(), deadline)) return std::nullopt;
  auto p = parse_frame_prefix(prefix, frame_format::default_max_response_bytes);
  if (!p) return std::nullopt;
  byte_buffer body(p->body_size());
  if (!read_exact(body.data(), body.size(), deadline)) return std::nullopt;
  auto frame = response_frame::parse(std::move(body), p->message_length);
  if (!frame) return std::nullopt;
  return std::move(*frame);
}

bool raw_client::closed_within(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::byte sink[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    ssize_t r = ::recv(fd_, sink, sizeof sink, 0);
    if (r <= 0) return r == 0 || errno != EINTR;
  }
}

request_builder metadata_request() {
  request_builder b;
  b.set_body(wire::CreateMetadataRequest(b.fbb()));
  return b;
}

request_builder produce_request(std::string_view topic, byte_buffer batch) {
  request_builder b;
  auto& fbb = b.fbb();
  auto range = b.add_payload(std::make_shared<const byte_buffer>(std::move(batch)));
  auto partition = wire::CreateProducePartition(fbb, 0, &range);
  auto t = wire::CreateProduceTopic(fbb, fbb.CreateString(topic.data(), topic.size()),
                                    fbb.CreateVector(&partition, 1));
  b.set_body(wire::CreateProduceRequest(fbb, 1, 30'000, fbb.CreateVector(&t, 1)));
  return b;
}

request_builder fetch_request(std::string_view topic, std::int64_t offset, std::int32_t max_bytes) {
  request_builder b;
  auto& fbb = b.fbb();
  auto part = wire::CreateFetchPartition(fbb, 0, offset, max_bytes);
  auto t = wire::CreateFetchTopic(fbb, fbb.CreateString(topic.data(), topic.size()),
                                  fbb.CreateVector(&part, 1));
  b.set_body(wire::CreateFetchRequest(fbb, 0, 1, max_bytes, fbb.CreateVector(&t, 1)));
  return b;
}

}  // namespace sluice::testing
