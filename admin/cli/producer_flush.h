#pragma once
// Waiting for a producer's acknowledgements in a command the user may interrupt.

#include "producer/producer.h"

namespace sluice::cli {

// producer::flush(), given up when a stop signal (SIGINT, SIGTERM) arrives while it waits: a
// broker that is down would otherwise hold the command until the delivery timeout. A signal
// that arrived before the call (the one that stopped the input, say) does not count. On giving
// up it closes the producer at once, which fails what is still pending and runs those
// callbacks, so the caller's counts are complete either way.
[[nodiscard]] result<void> flush_unless_interrupted(producer& p);

}  // namespace sluice::cli
