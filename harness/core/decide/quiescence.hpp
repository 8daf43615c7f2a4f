#pragma once
// When a run may end before its settle time is up: once nothing its checks could still see can
// happen. Pure: fed the sockets as sock_diag shows them now, answers why not (or nothing).
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "lastack/roles.hpp"
#include "lastack/tcp_state.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// How long a run waits, once its sockets are settled, with nothing new on the wire, before it
/// ends: a segment already in flight shows within the packet capture's block timeout (4 ms),
/// and the checks take a sampled last state as known only after two 2 ms samples of quiet wire.
/// Three block timeouts cover both.
inline constexpr std::chrono::milliseconds settled_grace{12};

/// One socket of a lab endpoint namespace, now.
struct SocketNow {
  Side side = Side::client;
  std::uint16_t local_port = 0, remote_port = 0;
  TcpState state = TcpState::CLOSE;
  std::chrono::milliseconds expires{0};  // the running timer's time left (TIME_WAIT: until it ends)
};

/// Why the sockets could still change what a run records before `left` (the rest of its settle
/// time) is over; empty when they cannot. Every TCP state but two has a timer or a peer that
/// can still send (a retransmission, a probe, a delayed ACK, a FIN_WAIT_2 timeout, a request
/// socket's SYN-ACK): only a TIME_WAIT that outlives `left` (it answers segments but sends
/// nothing of its own) and a listener (it answers SYNs only, and a SYN needs a connecting
/// socket, which is in neither state) are settled. A socket that is gone is not listed.
/// Segments already in flight are the caller's part: this judges the sockets only.
std::string why_unsettled(const std::vector<SocketNow>& sockets, std::chrono::milliseconds left);

/// The sockets a trace's sampled SocketEvents show at `t` (the last sample of each at or before
/// it, timers counted down to `t`); a socket last seen gone is not listed.
std::vector<SocketNow> sockets_at(const Trace& trace, Instant t);

}  // namespace lastack
