#include "protocol/response_frame.h"

namespace sluice {

result<response_frame> response_frame::parse(byte_buffer body, std::uint32_t message_length) {
  SLUICE_ASSERT(message_length <= body.size());
  auto bytes = std::make_shared<const byte_buffer>(std::move(body));
  const byte_span all(*bytes);
  auto r = verify_response(all.first(message_length));
  if (!r) return r.error();
  return response_frame(bytes, *r, all.subspan(message_length));
}

}  // namespace sluice
