#include "protocol/errc.h"

#include <string>

namespace sluice {
namespace {

// error_category's destructor is protected and non-virtual by design (categories are never
// deleted through a base pointer); GCC's -Wnon-virtual-dtor flags it anyway.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class protocol_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "sluice.protocol"; }

  std::string message(int ev) const override {
    switch (static_cast<protocol_errc>(ev)) {
      case protocol_errc::batch_truncated:
        return "record batch truncated";
      case protocol_errc::bad_length:
        return "bad record batch length";
      case protocol_errc::bad_magic:
        return "unsupported record batch magic";
      case protocol_errc::bad_crc:
        return "record batch CRC mismatch";
      case protocol_errc::bad_record_count:
        return "bad record count";
      case protocol_errc::bad_offset_delta:
        return "bad record offset delta";
      case protocol_errc::bad_record:
        return "malformed record";
      case protocol_errc::unsupported_compression:
        return "unsupported compression codec";
      case protocol_errc::decompression_failed:
        return "decompression failed";
      case protocol_errc::batch_too_large:
        return "record batch too large";
    }
    return "unknown protocol error " + std::to_string(ev);
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& protocol_category() noexcept {
  static const protocol_category_impl category;
  return category;
}

boost::system::error_code make_error_code(protocol_errc e) noexcept {
  return {static_cast<int>(e), protocol_category()};
}

}  // namespace sluice
