#include "index/errc.h"

#include <string>

namespace sluice {
namespace {

// boost's error_category has a protected non-virtual destructor by design (categories are
// never deleted through a base pointer); the warning does not apply.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class index_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "sluice.index"; }
  std::string message(int ev) const override {
    switch (static_cast<index_errc>(ev)) {
      case index_errc::corrupt_index:
        return "corrupt index";
      case index_errc::bad_max_size:
        return "index max size smaller than one entry";
    }
    return "unknown index error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& index_category() noexcept {
  static const index_category_impl category;
  return category;
}

}  // namespace sluice
