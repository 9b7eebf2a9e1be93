#pragma once
// Expected failures of the protocol library: malformed or unsupported batches. Returned inside
// sluice::error (result.h) with a detail naming the offending value.

#include <boost/system/error_code.hpp>
#include <type_traits>

namespace sluice {

enum class protocol_errc {
  batch_truncated = 1,      // fewer bytes than the header or BatchLength promises
  bad_length,               // BatchLength below the 49-byte minimum, or a length inside is wrong
  bad_magic,                // Magic is not 2
  bad_crc,                  // stored CRC-32C differs from the computed one
  bad_record_count,         // RecordsCount <= 0 or != LastOffsetDelta + 1
  bad_offset_delta,         // record offset deltas are not exactly 0..n-1
  bad_record,               // a record does not decode (lengths, varints, leftovers)
  unsupported_compression,  // codec not decodable here (gzip, snappy, lz4, unknown)
  decompression_failed,     // corrupt compressed data, or output beyond the allowed size
  batch_too_large,          // batch above the configured maximum size
};

// The category named "sluice.protocol".
[[nodiscard]] const boost::system::error_category& protocol_category() noexcept;

[[nodiscard]] boost::system::error_code make_error_code(protocol_errc e) noexcept;

}  // namespace sluice

template <>
struct boost::system::is_error_code_enum<sluice::protocol_errc> : std::true_type {};
