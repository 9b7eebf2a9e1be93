#pragma once
// The one error model of Sluice (see docs/architecture.md, "Errors"):
//  - Expected failures (bad input, disk full, I/O errors, offsets out of range) are values:
//    functions return sluice::result<T>, which holds either a T or a sluice::error.
//  - A sluice::error is an error_code (a library errc or errno in system_category) plus a
//    human-readable detail that says what was wrong and where (file, position, offset).
//  - Exceptions are only for start-up failures and misuse; SLUICE_ASSERT aborts only on broken
//    invariants, never on disk or input errors.

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <boost/system/system_error.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <utility>

namespace sluice {

struct error {
  boost::system::error_code code;
  std::string detail;  // what and where: "CRC mismatch at file position 4096 of 000...0.log"

  // "detail (code message)"; the code's message is omitted when detail is empty or equal.
  [[nodiscard]] std::string message() const;
};

template <class T = void>
using result = boost::system::result<T, error>;

// An error from an errno value, e.g. make_errno_error(errno, "write 000.log at 4096").
[[nodiscard]] error make_errno_error(int err, std::string detail);
// An error from any error_code enum value with a detail.
template <class Enum>
[[nodiscard]] error make_error(Enum e, std::string detail) {
  return error{make_error_code(e), std::move(detail)};
}

// Lets result<T>::value() throw a system_error carrying the detail.
[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

[[noreturn]] void assert_failed(const char* expr, const char* file, int line);

}  // namespace sluice

// Aborts on a broken invariant (a bug), never on bad input or I/O errors.
#define SLUICE_ASSERT(expr) \
  ((expr) ? static_cast<void>(0) : ::sluice::assert_failed(#expr, __FILE__, __LINE__))
