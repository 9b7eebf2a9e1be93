#pragma once
// Small checks shared by the admin client's request files: a response body that must be there,
// and a broker error turned into a result that names what it is about.

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>

#include "protocol/client/client_errc.h"
#include "protocol/response_frame.h"
#include "protocol/result.h"
#include "protocol/wire_errc.h"

namespace sluice::admin_detail {

// A string field of a response; absent reads as empty.
[[nodiscard]] inline std::string text_of(const flatbuffers::String* s) {
  return s != nullptr ? s->str() : std::string();
}

// The response's body as T. The connection already checked the body's type; a body that is
// missing all the same is a protocol_violation.
template <class T>
[[nodiscard]] result<const T*> body_of(const response_frame& frame, std::string_view api) {
  const T* body = frame.body<T>();
  if (body == nullptr) {
    return make_error(client_errc::protocol_violation,
                      fmt::format("{} response without a body", api));
  }
  return body;
}

// code/message from the broker as a result; the broker's message is kept as it is, and only
// when it is empty does the detail fall back to saying what the error is about (`subject`).
[[nodiscard]] inline result<void> broker_result(wire::ErrorCode code,
                                                const flatbuffers::String* message,
                                                std::string_view subject) {
  if (code == wire::ErrorCode::none) return {};
  std::string detail = message != nullptr ? message->str() : std::string();
  if (detail.empty()) detail = std::string(subject);
  return error{wire::make_error_code(code), std::move(detail)};
}

[[nodiscard]] inline error missing_result(std::string_view api, std::string_view subject) {
  return make_error(client_errc::protocol_violation,
                    fmt::format("{} response has no result for {}", api, subject));
}

}  // namespace sluice::admin_detail
