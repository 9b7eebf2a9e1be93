#include "protocol/response_frame.h"

namespace sluice {

result<response_frame> response_frame::parse(byte_buffer body, std::uint32_t message_length) {
  auto bytes = std::make_shared<const byte_buffer>(std::move(body));
  const byte_span all(*bytes);
  return parse(std::move(bytes), all, message_length);
}

result<response_frame> response_frame::parse(std::shared_ptr<const std::byte[]> body,
                                             std::size_t size, std::uint32_t message_length) {
  const byte_span all(body.get(), size);
  return parse(std::move(body), all, message_length);
}

result<response_frame> response_frame::parse(std::shared_ptr<const void> owner, byte_span body,
                                             std::uint32_t message_length) {
  SLUICE_ASSERT(message_length <= body.size());
  auto r = verify_response(body.first(message_length));
  if (!r) return r.error();
  return response_frame(std::move(owner), *r, body.subspan(message_length));
}

}  // namespace sluice
