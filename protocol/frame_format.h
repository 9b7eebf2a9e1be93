#pragma once
// The native protocol's frame, the unit on a Sluice TCP connection (schema: sluice.fbs).
//
// | off | size | field          | notes                                                     |
// | --- | ---- | -------------- | --------------------------------------------------------- |
// | 0   | 4    | FrameLength    | u32 big-endian: bytes after this field                    |
// | 4   | 4    | MessageLength  | u32 big-endian: bytes of the flatbuffers message           |
// | 8   | M    | Message        | a wire::Request or wire::Response, verified before use     |
// | 8+M | P    | Payload        | P = FrameLength - 4 - M: record batches, opaque bytes,     |
// |     |      |                | referenced from the message by PayloadRange {offset, len}  |
//
// The payload follows the message so a broker can write a response header and then send the
// batches straight from segment files, and so a produce request's batches arrive contiguous.

#include <cstddef>
#include <cstdint>

namespace sluice::frame_format {

inline constexpr std::size_t frame_length_size = 4;
inline constexpr std::size_t message_length_size = 4;
// Bytes before the message: FrameLength + MessageLength.
inline constexpr std::size_t prefix_size = frame_length_size + message_length_size;

// Default upper bounds; brokers and clients can lower or raise them.
inline constexpr std::uint32_t default_max_request_bytes = 100U << 20;   // 100 MiB
inline constexpr std::uint32_t default_max_response_bytes = 128U << 20;  // 128 MiB

// flatbuffers Verifier limits: deep nesting or huge table counts are refused as corrupt.
inline constexpr unsigned verifier_max_depth = 64;
inline constexpr unsigned verifier_max_tables = 1'000'000;

}  // namespace sluice::frame_format
