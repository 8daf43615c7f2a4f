#pragma once
// Finding what is pending: the timers of sampled sockets that can still put a segment on the
// wire, and the words for them.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lastack/pending.hpp"
#include "lastack/tcp_state.hpp"

namespace lastack {

/// "retransmission", "synack", ...: the JSON spelling; and its reverse.
std::string_view pending_kind_key(PendingKind k);
std::optional<PendingKind> pending_kind_from_key(std::string_view key);

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
