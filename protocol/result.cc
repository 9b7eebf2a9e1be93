#include "protocol/result.h"

#include <cerrno>

namespace sluice {

std::string error::message() const {
  std::string code_message = code.message();
  if (detail.empty()) return code_message;
  if (detail == code_message || !code) return detail;
  return detail + " (" + code_message + ")";
}

error make_errno_error(int err, std::string detail) {
  return error{boost::system::error_code(err, boost::system::system_category()), std::move(detail)};
}

void throw_exception_from_error(const error& e, const boost::source_location& loc) {
  boost::throw_exception(boost::system::system_error(e.code, e.detail), loc);
}

void assert_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "sluice: assertion failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace sluice
