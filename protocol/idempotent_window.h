#pragma once
// How many batches of one idempotent producer on one partition may be unacknowledged at once.
// The broker remembers that many acknowledged batches per producer and partition, so a retry of
// any batch a producer may still be waiting for is recognised and answered with its original
// offset; the producer never lets more than that many go ahead of its oldest unfinished batch.
// Kafka's brokers remember 5, and so do Sluice's. A window of 10 made a durable producer of
// 100-byte records in 64 KiB batches 13% faster (perf/RESULTS.md, "Broker", 2026-12-05); it
// went back to 5 when the chaos test began storing retried batches twice; the failures went
// away only once another change was also taken out, so the window is not known to be at fault
// (tests/chaos/README.md, 2026-12-05): 10 is to be tried again under the chaos loop.

namespace sluice {

inline constexpr int idempotent_window_batches = 5;

}  // namespace sluice
