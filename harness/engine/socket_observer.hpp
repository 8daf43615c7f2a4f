#pragma once
// Kernel truth: samples every TCP socket of the scenario in the client and server namespaces
// with sock_diag, and logs a SocketEvent whenever a socket's state, timer, retransmissions or
// RTO change, its TIME_WAIT timer restarts, or it disappears (the diffing: core/socket_changes).
#include <chrono>
#include <optional>
#include <set>
#include <vector>

#include "lastack/trace.hpp"
#include "harness/engine/run_clock.hpp"
#include "lastack/asio.hpp"
#include "lastack/per_side.hpp"
#include "harness/core/decide/quiescence.hpp"
#include "harness/core/trace/socket_changes.hpp"
#include "harness/sys/observe/sock_diag.hpp"
#include "harness/core/trace/pending.hpp"

namespace lastack {

class SocketObserver {
 public:
  /// Observe sockets using one of `ports` (local or remote) in both namespaces, every `interval`;
  /// with `listening_ports`, also those using any port a socket has listened on in the server
  /// namespace since start() (the user's server under `lastack exec` without --port). `jiffy`
  /// (the kernel's tick) bounds a TIME_WAIT expiry from its countdown: a restart is logged.
  /// `one_namespace` (`lastack wrap`): `client` and `server` are the same namespace; only
  /// `client` is sampled, every socket logged as the client's until the run's merge gives each
  /// cookie its side (core/loopback_sides), and listeners are learned there.
  SocketObserver(asio::io_context& io, const RunClock& clock, PerSide<sys::SockDiag> diag,
                 IpFamily family, std::vector<std::uint16_t> ports,
                 bool listening_ports, std::chrono::microseconds jiffy,
                 std::chrono::microseconds interval = std::chrono::milliseconds(2), bool one_namespace = false);

  /// Take a first sample now and keep sampling until stop().
  void start();
  /// Take the run's last sample: it logs every socket it shows, changed or not, so a socket it
  /// does not log was gone by then (Trace::final_sample_lists_all).
  void sample_final();
  /// Stop sampling (the last sample is sample_final's).
  void stop();
  /// Take a sample of both sides now.
  void sample();

  /// Take a sample of both sides now, and return every TCP socket it showed but listeners,
  /// whatever its port: what decides whether the run may end before its settle time
  /// (core/quiescence.hpp, where a listener is settled).
  std::vector<SocketNow> sockets_now();

  /// Take a sample of both sides now, and return the observed sockets (the scenario's ports, no
  /// listeners) with their running timers: what could still add evidence (core/pending.hpp).
  std::vector<SocketTimerNow> timers_now();

  /// SOCK_DESTROY every TIME_WAIT socket of the scenario on `side`; returns how many.
  std::size_t destroy_timewait(Side side);

  /// Every change seen, in time order.
  const std::vector<SocketEvent>& events() const { return events_; }
  /// Every sample taken of each side, in time order.
  const PerSide<std::vector<SocketSample>>& samples() const { return samples_; }

 private:
  void schedule();
  void sample_side(Side side);
  bool relevant(const sys::SocketSnapshot& s) const;
  /// With listening_ports_: add the ports the server side's latest dump shows listening.
  void learn_listeners(Side side);
  /// The side whose namespace is dumped for listeners: the server's, or (one namespace) the client's.
  Side listener_side() const;

  asio::io_context& io_;
  const RunClock& clock_;
  PerSide<sys::SockDiag> diag_;
  IpFamily family_;
  std::set<std::uint16_t> ports_;  // grows with listeners when listening_ports_
  bool listening_ports_;
  std::chrono::microseconds interval_;
  asio::steady_timer timer_;
  PerSide<SocketChanges> changes_;  // each side's sockets by cookie (core/socket_changes)
  std::vector<SocketEvent> shown_;                 // the sample being taken's sockets (reused)
  std::vector<SocketEvent> events_;
  PerSide<std::vector<SocketSample>> samples_;
  // The latest dump of each side (every port), reused between samples.
  PerSide<std::vector<sys::SocketSnapshot>> snapshots_;
  bool stopped_ = false;
  bool one_namespace_ = false;
  bool list_all_ = false;  // the sample being taken logs every socket, changed or not
};

}  // namespace lastack
