#pragma once
// Byte layout of Kafka's RecordBatch v2 (magic 2), the one batch format of Sluice on the wire and
// on disk (see shared reference kafka-compat.md §2; mirrored in docs/architecture.md).
// All integers big-endian.
//
//  off size field                 notes
//    0   8  BaseOffset            first record's offset; stamped by the broker (not in CRC)
//    8   4  BatchLength           bytes after this field = batch size - 12
//   12   4  PartitionLeaderEpoch  stamped by the leader (not in CRC)
//   16   1  Magic                 2
//   17   4  CRC                   CRC-32C over bytes [21, end)
//   21   2  Attributes            codec bits 0-2, timestamp type bit 3, transactional bit 4,
//                                 control bit 5, delete horizon bit 6
//   23   4  LastOffsetDelta       last record's offset - BaseOffset
//   27   8  BaseTimestamp         first record's timestamp
//   35   8  MaxTimestamp          largest record timestamp (or broker time, LogAppendTime)
//   43   8  ProducerId            -1 if not idempotent
//   51   2  ProducerEpoch         -1 if none
//   53   4  BaseSequence          -1 if none
//   57   4  RecordsCount          number of records (never compressed)
//   61   …  Records               record stream; compressed as one blob when codec != none
//
// Record (varint/varlong zigzag): Length varint, Attributes i8, TimestampDelta varlong,
// OffsetDelta varint, KeyLength varint (-1 null), Key, ValueLength varint (-1 null), Value,
// HeadersCount varint, then per header KeyLength varint + key (not null), ValueLength varint
// (-1 null) + value.

#include <cstddef>
#include <cstdint>

namespace sluice {
// Inline: the constants read as sluice::batch_header_size or
// sluice::batch_format::batch_header_size.
inline namespace batch_format {

inline constexpr std::size_t base_offset_offset = 0;
inline constexpr std::size_t batch_length_offset = 8;
inline constexpr std::size_t partition_leader_epoch_offset = 12;
inline constexpr std::size_t magic_offset = 16;
inline constexpr std::size_t crc_offset = 17;
inline constexpr std::size_t attributes_offset = 21;
inline constexpr std::size_t last_offset_delta_offset = 23;
inline constexpr std::size_t base_timestamp_offset = 27;
inline constexpr std::size_t max_timestamp_offset = 35;
inline constexpr std::size_t producer_id_offset = 43;
inline constexpr std::size_t producer_epoch_offset = 51;
inline constexpr std::size_t base_sequence_offset = 53;
inline constexpr std::size_t records_count_offset = 57;
inline constexpr std::size_t records_offset = 61;

// The header is everything before the records.
inline constexpr std::size_t batch_header_size = 61;
// BaseOffset + BatchLength: the bytes not counted by BatchLength.
inline constexpr std::size_t log_overhead = 12;
// The CRC covers [crc_scope_start, end of batch).
inline constexpr std::size_t crc_scope_start = attributes_offset;
// Bytes needed to read BaseOffset, BatchLength and Magic: enough to frame a batch.
inline constexpr std::size_t batch_prefix_size = magic_offset + 1;
// The smallest BatchLength: a header without records.
inline constexpr std::int32_t min_batch_length =
    static_cast<std::int32_t>(batch_header_size - log_overhead);
inline constexpr std::int8_t magic_v2 = 2;

// Attributes bits.
inline constexpr std::int16_t compression_mask = 0x07;
inline constexpr std::int16_t timestamp_type_mask = 0x08;  // set: LogAppendTime
inline constexpr std::int16_t transactional_mask = 0x10;
inline constexpr std::int16_t control_mask = 0x20;
inline constexpr std::int16_t delete_horizon_mask = 0x40;

static_assert(records_offset == batch_header_size);
static_assert(min_batch_length == 49);

}  // namespace batch_format

// Attributes bits 0-2. Sluice's clients write zstd; gzip, snappy and lz4 batches from Kafka clients
// are stored and served but not decoded.
enum class compression : std::uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

}  // namespace sluice
