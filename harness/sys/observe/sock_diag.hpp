#pragma once
// The kernel's view of every TCP socket in a namespace (NETLINK_SOCK_DIAG, inet_diag):
// state, timer, retransmissions and RTO, TIME_WAIT included; and destroying one socket.
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "lastack/segment.hpp"
#include "lastack/tcp_state.hpp"
#include "harness/sys/proc/fd.hpp"
#include "harness/sys/net/netns.hpp"

namespace lastack::sys {

/// The fields of struct tcp_info lastack reports (full sockets only).
struct TcpInfoSample {
  std::chrono::microseconds rto{0};
  std::uint8_t retransmits = 0;  // consecutive unanswered retransmissions of the head segment
  std::uint8_t backoff = 0;      // exponential backoff steps of the RTO timer
  std::uint32_t total_retrans = 0;
  std::uint32_t unacked = 0;     // segments sent and not yet acknowledged
  std::chrono::microseconds rtt{0};
};

/// One socket as inet_diag reports it.
struct SocketSnapshot {
  /// inet_diag's idiag_timer values.
  static constexpr std::uint8_t TIMER_NONE = 0, TIMER_RETRANSMIT = 1, TIMER_KEEPALIVE = 2,
                                TIMER_TIME_WAIT = 3, TIMER_PROBE = 4;

  IpAddress local, remote;  // IPv4-mapped addresses stay IPv6 on IPv6 sockets
  std::uint16_t local_port = 0, remote_port = 0;
  TcpState state = TcpState::CLOSE;
  std::uint8_t timer = TIMER_NONE;
  std::chrono::milliseconds expires{0};  // until the timer fires
  std::uint8_t retrans = 0;              // retransmissions (or probes) of the running timer
  std::optional<TcpInfoSample> info;     // absent for TIME_WAIT and request sockets
  std::array<std::uint32_t, 2> cookie{};  // the kernel's socket id, for destroy()

  /// The cookie as one number (what BPF's bpf_get_socket_cookie returns).
  std::uint64_t cookie_value() const { return (std::uint64_t{cookie[1]} << 32) | cookie[0]; }
};

/// Which sockets a dump asks for. The kernel walks the host-wide listening hash (64 K buckets)
/// only for a dump that asks for listeners, so a polling loop leaves them out.
enum class SocketStates {
  all,          // every TCP state (bound-only sockets, TCP_BOUND_INACTIVE, are never asked for)
  connections,  // every state but LISTEN: the namespace's own established hash only
  listeners,    // LISTEN only
};

/// A NETLINK_SOCK_DIAG socket opened in one namespace; move-only.
class SockDiag {
 public:
  /// Open a sock_diag socket in `ns`: it observes that namespace from then on.
  static SockDiag open_in(const NetNamespace& ns);

  /// Every TCP socket of `family` in the namespace in `states`, TIME_WAIT and request sockets
  /// included.
  std::vector<SocketSnapshot> dump(IpFamily family, SocketStates states = SocketStates::all);
  /// Same as dump(), into `out` (cleared first) so a polling loop reuses its storage.
  void dump_into(IpFamily family, std::vector<SocketSnapshot>& out, SocketStates states = SocketStates::all);

  /// Destroy one socket (SOCK_DESTROY), e.g. a TIME_WAIT socket; false if it no longer exists.
  bool destroy(const SocketSnapshot& s, IpFamily family);

 private:
  explicit SockDiag(UniqueFd fd);
  /// Read one datagram of the answer to request `seq_`; throws on a transport error.
  std::size_t receive_reply();

  UniqueFd socket_;
  std::uint32_t seq_ = 0;
  std::vector<std::uint8_t> buffer_;  // one netlink datagram, reused
};

}  // namespace lastack::sys
