#include "segment/errc.h"

#include <string>

namespace sluice {
namespace {

// boost's error_category has a protected non-virtual destructor by design (categories are
// never deleted through a base pointer); the warning does not apply.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class log_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "sluice.log"; }
  std::string message(int ev) const override {
    switch (static_cast<log_errc>(ev)) {
      case log_errc::offset_out_of_range:
        return "offset out of range";
      case log_errc::log_offline:
        return "log is offline after a disk error";
      case log_errc::log_closed:
        return "log is closed";
      case log_errc::batch_too_large:
        return "batch larger than max.message.bytes";
      case log_errc::rolling_back:
        return "log is cutting back a failed write";
      case log_errc::busy:
        return "log has appends in flight";
      case log_errc::corrupt_log:
        return "corrupt log";
      case log_errc::bad_config:
        return "bad log config";
    }
    return "unknown log error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& log_category() noexcept {
  static const log_category_impl category;
  return category;
}

}  // namespace sluice
