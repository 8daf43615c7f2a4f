#pragma once
// The sock_diag sampler's memory: consecutive samples of one side's sockets turned into the
// SocketEvents worth logging (a new socket, a changed one, a TIME_WAIT restart, one gone).
// Pure: fed each sample's sockets, already converted to SocketEvents.
#include <chrono>
#include <map>
#include <set>
#include <vector>

#include "lastack/trace.hpp"

namespace lastack {

/// True when `b`, a later sample of the socket `a` showed, is worth logging: another state,
/// timer, retransmission count or RTO, or a TIME_WAIT expiry certainly moved later (a restart;
/// core/timewait_timer, with `jiffy` the kernel's tick).
bool socket_changed(const SocketEvent& a, const SocketSample& a_sample, const SocketEvent& b,
                    const SocketSample& b_sample, std::chrono::microseconds jiffy);

/// One side's sockets across its samples, keyed by cookie (a reused four-tuple is a new socket).
class SocketChanges {
 public:
  /// `jiffy`: the kernel's tick, which bounds a TIME_WAIT expiry read from its countdown.
  explicit SocketChanges(std::chrono::microseconds jiffy);

  /// One sample: `shown` holds each socket it showed (at sample.start, cookie set). Appends to
  /// `out`, in this order: each socket new or changed since it was last logged (every one shown
  /// when `list_all`), in `shown`'s order; then each socket last logged alive that the sample
  /// does not show, as CLOSE with no timer at sample.start, in cookie order. An unchanged socket
  /// keeps its newest countdown, so a restart is measured against the latest sample.
  void next_sample(const SocketSample& sample, const std::vector<SocketEvent>& shown, bool list_all,
                   std::vector<SocketEvent>& out);

 private:
  struct Seen {
    SocketEvent last;     // as last logged (its countdown the newest seen)
    SocketSample sample;  // the sample `last`'s countdown was read in
  };
  void log_gone(const SocketSample& sample, const std::set<SocketCookie>& present, std::vector<SocketEvent>& out);

  std::chrono::microseconds jiffy_;
  std::map<SocketCookie, Seen> seen_;
};

}  // namespace lastack
