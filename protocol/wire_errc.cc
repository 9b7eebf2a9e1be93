#include "protocol/wire_errc.h"

#include <string>

namespace sluice::wire {
namespace {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class wire_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "sluice.wire"; }

  std::string message(int ev) const override {
    const auto e = static_cast<ErrorCode>(ev);
    if (e < ErrorCode::MIN || e > ErrorCode::MAX) {
      return "unknown wire error " + std::to_string(ev);
    }
    std::string name = EnumNameErrorCode(e);
    for (auto& c : name) {
      if (c == '_') c = ' ';
    }
    return name;
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& wire_category() noexcept {
  static const wire_category_impl category;
  return category;
}

bool is_retriable(ErrorCode e) noexcept {
  switch (e) {
    case ErrorCode::not_enough_space:
    case ErrorCode::request_timed_out:
    case ErrorCode::broker_shutting_down:
    case ErrorCode::not_leader:
      return true;
    default:
      return false;
  }
}

result<void> to_result(ErrorCode code, const flatbuffers::String* message) {
  if (code == ErrorCode::none) return {};
  return error{make_error_code(code), message != nullptr ? message->str() : std::string()};
}

}  // namespace sluice::wire
