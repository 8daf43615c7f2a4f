#pragma once
// Evidence the kernel or the lab could still add to a run: what keeps a run observing after its
// programs are done, and what a run its timeout cut short leaves undecided. An absence ("never",
// "count = 0", an exact count) is judged only over a window nothing was still pending in.
#include <cstdint>
#include <optional>
#include <string_view>

#include "lastack/clock.hpp"
#include "lastack/connection_number.hpp"
#include "lastack/roles.hpp"

namespace lastack {

/// What was still to come.
enum class PendingKind : std::uint8_t {
  retransmission,  // a socket's retransmission timer (RTO, tail-loss probe) was armed
  window_probe,    // a zero-window probe timer was armed
  keepalive,       // a keepalive timer that sends probes (not an orphan FIN_WAIT_2's, which ends silently)
  synack,          // a request socket's SYN-ACK timer was armed
  delayed_ack,     // a socket may still owe a delayed ACK (at most HZ/2 after the last segment it got)
  held_segment,    // the interceptor still held, delayed or had to copy a segment a fault asked for
  lab_action,      // a [[lab]] action was triggered and had not run yet
};
/// "retransmission timer", "SYN-ACK timer", "held segment" ...
std::string_view pending_kind_name(PendingKind k);

/// One thing pending, and when it was due.
struct PendingEvidence {
  PendingKind kind = PendingKind::retransmission;
  std::optional<Side> side;                 // the socket's side (none: the lab's)
  std::uint64_t cookie = 0;                 // the socket's cookie (0: not a socket's)
  std::uint16_t local_port = 0, remote_port = 0;
  std::optional<ConnectionIndex> connection;  // filled from the wire's ports, or the cookie's connection
  Instant due{};
  bool operator==(const PendingEvidence&) const = default;
};

}  // namespace lastack
