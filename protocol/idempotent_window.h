#pragma once
// How many batches of one idempotent producer on one partition may be unacknowledged at once.
// The broker remembers that many acknowledged batches per producer and partition, so a retry of
// any batch a producer may still be waiting for is recognised and answered with its original
// offset; the producer never lets more than that many go ahead of its oldest unfinished batch.
// Kafka's brokers remember 5; Sluice's remember 10: with 64 KiB batches of 100-byte records, a
// durable producer with 5 in flight was bound by its window, not by the broker or the disk, and
// 10 made it 13% faster (perf/RESULTS.md, "Broker", 2026-12-05). Kafka clients, which send at
// most 5, are served the same.

namespace sluice {

inline constexpr int idempotent_window_batches = 10;

}  // namespace sluice
