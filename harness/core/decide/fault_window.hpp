#pragma once
// When a fault is active: its window on the run's clock, anchored at the run's start or at a
// segment (`window.after`), and the moments windows opened and closed, for the trace. Pure: the
// time comes in as an argument.
#include <cstddef>
#include <map>
#include <optional>
#include <vector>

#include "lastack/clock.hpp"
#include "lastack/flow_tracker.hpp"
#include "lastack/policy.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// Where a window stands at a moment.
enum class WindowPhase : std::uint8_t { waiting, open, closed };

/// The moments a window opens and closes once its anchor is known: open in [opens, closes).
struct WindowSpan {
  Instant opens{};
  std::optional<Instant> closes;  // unset: open until the run ends
  bool operator==(const WindowSpan&) const = default;
};

/// The span of `w` anchored at `anchor` (the run's start is Instant{}).
WindowSpan window_span(const FaultWindow& w, Instant anchor);

/// Where `span` stands at `now`.
WindowPhase window_phase(const WindowSpan& span, Instant now);

/// A window opening or closing: what the trace records.
struct WindowEdge {
  std::size_t fault = 0;                  // index into the rules
  std::optional<ConnectionIndex> connection;  // anchored at a segment of this connection, per connection
  Instant at{};
  bool opens = true;
  bool operator==(const WindowEdge&) const = default;
};

/// Every fault's window, and the anchors the wire has shown so far.
class FaultWindows {
 public:
  /// `per_connection`: an `after` anchor is each connection's own, as faults count per connection.
  FaultWindows(const std::vector<FaultRule>& rules, bool per_connection);

  /// True when rule `rule` may act on `seg` at `now`: it has no window, or its window (for
  /// seg's connection) is open. A window anchored at a segment stays shut until that segment.
  bool active(std::size_t rule, const Classified& seg, Instant now) const;

  /// Add a rule (a fault added while the run goes: `lastack ... --control`), its index next.
  void add(const FaultRule& rule);

  /// Limit rule `rule` to `span` as well as its window: a fault added by control is active from
  /// its `fault add` to its `fault remove` (closes unset: until the run ends).
  void limit(std::size_t rule, WindowSpan span);

  /// Note `seg`, seen at `now`, as an anchor: the nth segment an `after` selector picks anchors
  /// its window. Call after deciding `seg`, so the anchor itself is never inside its window.
  void observe(const Classified& seg, Instant now);

  /// Every edge at or before `until`, in time order (fault order within one instant).
  std::vector<WindowEdge> edges(Instant until) const;

  /// The faults (indexes) whose window never opened by `until`: it opens later, or its `after`
  /// segment never came. Such a fault did nothing, and the run should say so.
  std::vector<std::size_t> never_opened(Instant until) const;

 private:
  struct Anchors {
    std::map<std::size_t, std::uint64_t> matched;  // per scope: the `after` selector's matches so far
    std::map<std::size_t, Instant> at;             // per scope: the anchor, once seen
  };
  std::size_t scope(const Classified& seg) const { return per_connection_ ? seg.connection.value : 0; }
  std::vector<std::optional<FaultWindow>> windows_;
  std::vector<Anchors> anchors_;
  std::map<std::size_t, WindowSpan> limits_;  // per rule added by control: when it is on
  bool per_connection_ = false;
};

/// The trace's lines for `edges` of `rules`' windows: "fault 1's window opens (from 1s for 3s
/// after the run's start)", "fault 1's window closes (open 3s)"; kinds window_opened/window_closed.
std::vector<LabEvent> window_events(const std::vector<FaultRule>& rules, const std::vector<WindowEdge>& edges);

/// The trace's notes (kind note, at `until`) for faults whose window never opened:
/// "fault 2's window never opened before the run ended (from 20s after the run's start)".
std::vector<LabEvent> never_opened_notes(const std::vector<FaultRule>& rules, const std::vector<std::size_t>& faults,
                                         Instant until);

/// "from 1s for 3s after the run's start", "from 0ms after data from server #3": a window in words.
std::string window_text(const FaultWindow& w);

}  // namespace lastack
