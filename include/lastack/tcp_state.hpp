#pragma once
// TCP states with the kernel's numbering (include/net/tcp_states.h), as sock_diag reports them.
#include <cstdint>
#include <optional>
#include <string_view>

namespace lastack {

enum class TcpState : std::uint8_t {
  ESTABLISHED = 1,
  SYN_SENT = 2,
  SYN_RECV = 3,
  FIN_WAIT1 = 4,
  FIN_WAIT2 = 5,
  TIME_WAIT = 6,
  CLOSE = 7,
  CLOSE_WAIT = 8,
  LAST_ACK = 9,
  LISTEN = 10,
  CLOSING = 11,
  NEW_SYN_RECV = 12,
};

/// RFC-style name: "ESTABLISHED", "FIN_WAIT_1", "TIME_WAIT", "CLOSED" (for CLOSE) ...
std::string_view state_name(TcpState s);
/// Parse a policy's state name; accepts '_' or '-' and any case, "FIN_WAIT1" or "FIN_WAIT_1",
/// "CLOSED" or "CLOSE". nullopt for an unknown name.
std::optional<TcpState> state_from_name(std::string_view name);
/// True when RFC 9293's state diagram (plus Linux's NEW_SYN_RECV, and CLOSE as "socket gone")
/// leads from `from` to `to` in one or more steps. sock_diag is sampled, so intermediate
/// states may be missed: FIN_WAIT_1 -> TIME_WAIT is legal, TIME_WAIT -> ESTABLISHED is not.
bool legal_transition(TcpState from, TcpState to);

/// True when `from` -> `to` is one step a Linux socket takes (as tracepoint
/// sock:inet_sock_set_state reports it, or as a connection's view when a full socket hands over
/// to a timewait socket): RFC 9293's diagram plus Linux's real extra steps (see step_why).
bool legal_step(TcpState from, TcpState to);
/// Why the step is legal, in one line ("rcv FIN" or "Linux: ..."); empty when it is not.
std::string_view step_why(TcpState from, TcpState to);

}  // namespace lastack
