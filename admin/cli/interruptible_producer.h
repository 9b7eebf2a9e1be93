#pragma once
// A producer's blocking calls in a command the user may interrupt (SIGINT, SIGTERM): a broker
// that is down would otherwise hold the command for the producer's max_block (a send waiting
// for metadata or buffer space) or delivery timeout (a flush).

#include <chrono>

#include "admin/cli/stop_signal.h"
#include "producer/producer.h"
#include "protocol/client/client_errc.h"

namespace sluice::cli {

// The CLI's producers block in slices this long (producer_config::max_block) and
// send_unless_interrupted() tries again, up to send_wait_limit in all.
inline constexpr auto send_wait_slice = std::chrono::milliseconds(200);
inline constexpr auto send_wait_limit = std::chrono::seconds(60);  // the library's default

// `c` with max_block = send_wait_slice, for send_unless_interrupted().
[[nodiscard]] inline producer_config make_interruptible(producer_config c) {
  c.max_block = send_wait_slice;
  return c;
}

[[nodiscard]] inline bool still_waiting(const error& e) {
  return e.code == client_errc::timed_out || e.code == client_errc::buffer_full;
}

// producer::send(r, make_callback()), tried again while it times out waiting for metadata or
// buffer space, until a stop signal or send_wait_limit. REQUIRES: the producer's max_block is
// send_wait_slice. The clock is read only once a send has had to wait.
template <class MakeCallback>
result<void> send_unless_interrupted(producer& p, const producer_record& r,
                                     const MakeCallback& make_callback) {
  auto sent = p.send(r, make_callback());
  if (sent || !still_waiting(sent.error())) return sent;
  const auto give_up_at = std::chrono::steady_clock::now() + send_wait_limit;
  while (!stop_requested() && std::chrono::steady_clock::now() < give_up_at) {
    sent = p.send(r, make_callback());
    if (sent || !still_waiting(sent.error())) return sent;
  }
  return sent;
}

// producer::flush(), given up when a stop signal arrives while it waits. A signal that arrived
// before the call (the one that stopped the input, say) does not count. On giving up it closes
// the producer at once, which fails what is still pending and runs those callbacks, so the
// caller's counts are complete either way.
[[nodiscard]] result<void> flush_unless_interrupted(producer& p);

}  // namespace sluice::cli
