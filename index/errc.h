#pragma once
// Expected failures of the index library that are not an errno (I/O errors keep their errno in
// system_category). A corrupt index is never repaired here: the caller rebuilds it from the log.

#include <boost/system/error_code.hpp>

namespace sluice {

enum class index_errc {
  corrupt_index = 1,  // size not a multiple of the entry size, or entries out of order
  bad_max_size,       // max_bytes smaller than one entry
};

const boost::system::error_category& index_category() noexcept;

inline boost::system::error_code make_error_code(index_errc e) noexcept {
  return {static_cast<int>(e), index_category()};
}

}  // namespace sluice

template <>
struct boost::system::is_error_code_enum<sluice::index_errc> : std::true_type {};
