#pragma once
// What a drawn ladder needs from a trace, independent of how it is drawn: a compressed time
// scale, each side's state bands, and which segment each retransmission resends.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/trace/state_history.hpp"
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

/// One state a side's socket was in, from `start` until `end`: a shown step of its state history.
struct StateBand {
  Side side = Side::client;
  TcpState state = TcpState::CLOSE;
  SocketForm form = SocketForm::full;    // a request socket's, a timewait socket's, or a full socket's
  StateSource source = StateSource::sampled;  // what the state rests on
  Instant start{}, end{};
  bool from_wire = false;                // [start, evidence_at) is the wire's account (a SYN's or FIN's arrival)
  Instant evidence_at{};                 // where the kernel's evidence begins
  std::optional<Millis> timer;           // a timewait socket's: the time left at its first sample
  std::vector<Instant> timer_restarts;   // TIME_WAIT: samples where the timer had restarted
  ConnectionIndex connection;            // as the flow tracker numbers them

  /// "timewait socket in TIME_WAIT · timer 60.0 s": state_label, and the timer when there is one.
  std::string label() const;
  /// "traced", "sampled; from the FIN's arrival on the wire at 203.7 ms", ...: what it rests on.
  std::string source_text() const;
};

/// Each socket's states (its state history's shown steps, on the kernel's word; a start from
/// the wire or a state inferred from it says so), in time order, until the end of the trace.
/// Listeners and sockets off the wire are left out; a socket's end (CLOSED) is a band of no length
/// when `with_close`, else none.
std::vector<StateBand> state_bands(const Trace& trace, bool with_close = false);

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
