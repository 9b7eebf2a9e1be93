#include "admin/cli/interruptible_producer.h"

#include <chrono>

#include "admin/cli/stop_signal.h"
#include "protocol/client/client_errc.h"

namespace sluice::cli {

result<void> flush_unless_interrupted(producer& p) {
  constexpr auto check_every = std::chrono::milliseconds(100);
  const int signals_before = stop_signals_received();
  for (;;) {
    auto flushed = p.flush(check_every);
    if (flushed || flushed.error().code != client_errc::timed_out) return flushed;
    if (stop_signals_received() > signals_before) {
      p.close(std::chrono::milliseconds(0));
      return make_error(client_errc::timed_out,
                        "interrupted while waiting for acknowledgements: records still pending "
                        "were given up (they may or may not have been stored)");
    }
  }
}

}  // namespace sluice::cli
