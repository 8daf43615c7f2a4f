#pragma once
// What a drawn ladder needs from a trace, independent of how it is drawn: a compressed time
// scale, each side's state bands, and which segment each retransmission resends.
#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

#include "lastack/trace.hpp"

namespace lastack {

/// Maps run time to a vertical position: key instants get at least `min_gap` pixels between
/// them, plus `log_px` per decade of the gap (in 0.1 ms units), so a 0.1 ms handshake and a 60 s
/// TIME_WAIT both fit on one page. Instants between keys are interpolated, outside them clamped.
class TimeScale {
 public:
  /// `keys` in any order; equal instants are merged.
  TimeScale(std::vector<Instant> keys, double top, double min_gap, double log_px);
  /// The vertical position of `t`.
  double y(Instant t) const;
  /// The position of the last key.
  double bottom() const;
  /// The key instants, sorted, with their positions.
  const std::vector<Instant>& keys() const { return keys_; }

 private:
  std::vector<Instant> keys_;
  std::vector<double> ys_;
};

/// One state a side's socket was in, from `start` until `end`.
struct StateBand {
  Side side = Side::client;
  TcpState state = TcpState::CLOSE;
  Instant start{}, end{};
  bool traced = false;                   // from a StateChange (exact), else from a sample
  std::optional<Millis> timewait_timer;  // TIME_WAIT: the time left at the first sample
  std::vector<Instant> timer_restarts;   // TIME_WAIT: samples where the timer had restarted
  ConnectionIndex connection;            // as the flow tracker numbers them
};

/// Each side's states on each connection, in time order, until the end of the trace: from
/// the StateChange events when the side has any (TIME_WAIT and its end still from samples, as no
/// tracepoint reports it), else from the sampled SocketEvents. Listeners are left out.
std::vector<StateBand> state_bands(const Trace& trace);

/// The earliest and latest instant of any event (0, 0 for an empty trace).
std::pair<Instant, Instant> trace_span(const Trace& trace);

/// The wire events, and for each the index (into that list) of the segment it retransmits: the
/// first earlier segment from the same sender on the same connection that it resends.
struct WireIndex {
  std::vector<const WireEvent*> events;
  std::vector<std::optional<std::size_t>> original;
};
/// Builds the WireIndex of `trace`.
WireIndex index_wire(const Trace& trace);

/// The RTO the kernel had armed when it sent `retransmission`: from the matching
/// KernelRetransmit (same side, same first seq, within 5 ms), else from the samples (rto_for).
std::optional<std::chrono::microseconds> retransmission_rto(const Trace& trace, const WireEvent& original,
                                                            const WireEvent& retransmission);

}  // namespace lastack
