#pragma once
// Kernel truth: samples every TCP socket of the scenario in the client and server namespaces
// with sock_diag, and logs a SocketEvent whenever a socket's state, timer, retransmissions or
// RTO change, its TIME_WAIT timer restarts, or it disappears.
#include <chrono>
#include <map>
#include <optional>
#include <vector>

#include "harness/core/trace.hpp"
#include "harness/run/run_clock.hpp"
#include "harness/sys/asio.hpp"
#include "harness/sys/sock_diag.hpp"

namespace lastack {

class SocketObserver {
 public:
  /// Observe sockets using `port` (local or remote) in both namespaces, every `interval`.
  SocketObserver(asio::io_context& io, const RunClock& clock, sys::SockDiag client,
                 sys::SockDiag server, IpFamily family, std::uint16_t port,
                 std::chrono::microseconds interval = std::chrono::milliseconds(2));

  /// Take a first sample now and keep sampling until stop().
  void start();
  /// Take one last sample and stop.
  void stop();
  /// Take a sample of both sides now.
  void sample();

  /// SOCK_DESTROY every TIME_WAIT socket of the scenario on `side`; returns how many.
  std::size_t destroy_timewait(Side side);

  /// Every change seen, in time order.
  const std::vector<SocketEvent>& events() const { return events_; }

 private:
  struct Seen {
    SocketEvent last;
  };
  using Key = std::pair<std::uint16_t, std::uint16_t>;  // local port, remote port

  void schedule();
  void sample_side(Side side, sys::SockDiag& diag, std::map<Key, Seen>& seen, Instant now);
  bool relevant(const sys::SocketSnapshot& s) const;

  asio::io_context& io_;
  const RunClock& clock_;
  sys::SockDiag client_, server_;
  IpFamily family_;
  std::uint16_t port_;
  std::chrono::microseconds interval_;
  asio::steady_timer timer_;
  std::map<Key, Seen> client_seen_, server_seen_;
  std::vector<SocketEvent> events_;
  std::vector<sys::SocketSnapshot> snapshots_;  // the latest dump, reused between samples
  bool stopped_ = false;
};

}  // namespace lastack
