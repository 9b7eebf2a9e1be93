#pragma once
// Expected failures of the storage engine. Disk errors keep their errno (system_category);
// these codes cover what is not an errno.

#include <boost/system/error_code.hpp>

namespace sluice {

enum class log_errc {
  offset_out_of_range = 1,  // below the log start offset or above the log end offset
  log_offline,              // fenced after an fsync error; only recovery (reopen) brings it back
  log_closed,               // close() has begun; no new appends
  batch_too_large,          // larger than max.message.bytes
  rolling_back,             // an earlier append's write failed; the log is cutting back its tail
  busy,                     // the operation needs a log with no appends in flight
  corrupt_log,              // recovery found data it could not use (see the detail)
  bad_config,               // a config value out of range
};

const boost::system::error_category& log_category() noexcept;

inline boost::system::error_code make_error_code(log_errc e) noexcept {
  return {static_cast<int>(e), log_category()};
}

}  // namespace sluice

template <>
struct boost::system::is_error_code_enum<sluice::log_errc> : std::true_type {};
