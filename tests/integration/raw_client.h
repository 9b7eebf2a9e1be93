#pragma once
// A blocking native-protocol client over a plain socket, for tests that must send bytes no real
// client would (garbage, oversized or truncated frames) and see exactly what comes back.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/bytes.h"
#include "protocol/request_builder.h"
#include "protocol/response_frame.h"

namespace sluice::testing {

class raw_client {
 public:
  explicit raw_client(std::uint16_t port);  // connects to 127.0.0.1; throws on failure
  ~raw_client();
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  // Writes all bytes; false if the connection is gone.
  bool send_bytes(byte_span bytes);
  // Finishes the request (id, version, client id "raw") and writes it.
  bool send(request_builder req, std::uint64_t request_id, std::uint16_t version = 1);
  // The next response frame, or nullopt on timeout / closed connection / unparsable frame.
  std::optional<response_frame> read_response(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True when the broker closed the connection within `timeout` (reads hit EOF or an error).
  bool closed_within(std::chrono::milliseconds timeout);

 private:
  bool read_exact(std::byte* out, std::size_t n, std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
};

// Request body helpers: a MetadataRequest for all topics; a ProduceRequest (acks=1) of one
// batch to partition 0; a FetchRequest of partition 0 from `offset` (no wait).
[[nodiscard]] request_builder metadata_request();
[[nodiscard]] request_builder produce_request(std::string_view topic, byte_buffer batch);
[[nodiscard]] request_builder fetch_request(std::string_view topic, std::int64_t offset,
                                            std::int32_t max_bytes);

}  // namespace sluice::testing
