#pragma once
// How a process that lives on large, short-lived byte_buffers (request frames, record batches of
// 64 KiB to 1 MiB) should set up glibc's heap, once, before it allocates any of them.
//
// By default glibc hands freed memory at the top of a heap back to the kernel (beyond 128 KiB)
// and maps blocks of 128 KiB and more on their own, so a steady stream of such buffers is
// page-faulted in anew: in the broker 30 000-130 000 faults in a 6 s run of 64 KiB batches, the
// shard's largest kernel cost; in sluice-bench append about 1.4 x less throughput under
// flush=interval (perf/RESULTS.md). Keep up to 64 MiB of freed heap for reuse, and map on its
// own only what is larger than 8 MiB.

#include <malloc.h>

namespace sluice {

inline void keep_freed_buffer_memory() {
  ::mallopt(M_MMAP_THRESHOLD, 8 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

}  // namespace sluice
