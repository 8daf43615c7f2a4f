#pragma once
// Evidence the kernel or the lab could still add to a run: what keeps a run observing after its
// programs are done, and what a run its timeout cut short leaves undecided. An absence ("never",
// "count = 0", an exact count) is judged only over a window nothing was still pending in.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lastack/clock.hpp"
#include "lastack/roles.hpp"
#include "lastack/tcp_state.hpp"

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
/// "retransmission", "synack", ...: the JSON spelling; and its reverse.
std::string_view pending_kind_key(PendingKind k);
std::optional<PendingKind> pending_kind_from_key(std::string_view key);

/// One thing pending, and when it was due.
struct PendingEvidence {
  PendingKind kind = PendingKind::retransmission;
  std::optional<Side> side;                 // the socket's side (none: the lab's)
  std::uint64_t cookie = 0;                 // the socket's cookie (0: not a socket's)
  std::uint16_t local_port = 0, remote_port = 0;
  std::optional<std::size_t> connection;    // filled from the wire's ports, or the cookie's connection
  Instant due{};
  bool operator==(const PendingEvidence&) const = default;
};

/// One socket of a lab endpoint namespace, now, with its running timer.
struct SocketTimerNow {
  Side side = Side::client;
  std::uint64_t cookie = 0;
  std::uint16_t local_port = 0, remote_port = 0;
  TcpState state = TcpState::CLOSE;
  std::uint8_t timer = 0;                 // sock_diag's idiag_timer: 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 probe
  bool request = false;                   // a request socket (its timer is the SYN-ACK's)
  std::chrono::milliseconds expires{0};   // the running timer's time left
};

/// The timers among `sockets` (sampled at `now`) that can still put a segment on the wire; a
/// TIME_WAIT's timer and an orphan's FIN_WAIT_2 timer end their socket silently and are not.
std::vector<PendingEvidence> pending_timers(const std::vector<SocketTimerNow>& sockets, Instant now);

/// Linux's longest delayed-ACK timer (tcp_send_delayed_ack caps ato at HZ/2).
inline constexpr std::chrono::milliseconds delayed_ack_max{500};

/// "the server's retransmission timer (socket 8080→40000), due at 1.42 s"; several joined.
std::string pending_text(const std::vector<const PendingEvidence*>& pending);

}  // namespace lastack
