#pragma once
// The decision engine: for each queued segment, what the fault rules say to do with it.
// Pure: time comes in as an argument (the injected clock), packets are opaque handles.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/decide/fault_window.hpp"
#include "lastack/clock.hpp"
#include "lastack/flow_tracker.hpp"
#include "lastack/policy.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// The engine's answer for one segment.
struct Decision {
  ActionKind action = ActionKind::drop;
  bool pass = true;                  // true: no rule applied; let it through now
  std::optional<std::size_t> fault;  // index of the rule that applied
  std::optional<Instant> release_at; // delay: when to let it go; hold: its deadline (if any)
  std::uint32_t copies = 0;          // duplicate: extra copies to inject
  bool copies_held = false;          // duplicate with until/deadline: the copies wait for a Release
  std::vector<FaultDraw> draws;      // probabilistic faults' draws for this segment, in rule order
};

/// A delayed or held segment whose time has come.
struct Release {
  std::uint64_t packet = 0;
  std::size_t fault = 0;
  std::string reason;  // "delay 300ms elapsed", "released by fin from server", "hold deadline"
  bool copies = false; // the held copies of a duplicated segment go now (the original went at once)
};

/// Applies Policy::faults to classified segments, in wire order.
class DecisionEngine {
 public:
  /// `per_connection` (a scenario of `connections = N` > 1): each connection counts its own
  /// matches (nth, every, count) and sees its own `until`, as if it ran alone, and draws from its
  /// own stream. `seed`: the run's seed, from which every probabilistic fault draws.
  explicit DecisionEngine(std::vector<FaultRule> rules, bool per_connection = false, std::uint64_t seed = 0);
  // Defined where RuleState and Waiting are complete.
  ~DecisionEngine();
  DecisionEngine(DecisionEngine&&) noexcept;
  DecisionEngine& operator=(DecisionEngine&&) noexcept;

  /// Decide for one segment seen at `now`. The first rule (in file order) that applies wins;
  /// every rule whose selector matches inside its window (if it has one: fault_window) counts
  /// the segment, whether or not it applies. A rule with
  /// a probability draws once for each segment its counting picks (that draw uses up one of its
  /// `count`), and applies only when the draw is below it; the draws are in Decision::draws.
  /// A hold whose `until` already matched an earlier segment is pointless: the segment passes.
  Decision decide(std::uint64_t packet, const Classified& seg, Instant now);

  /// Delayed/held packets due at `now`: delays that elapsed, holds past their deadline, and
  /// holds whose `until` selector matched a segment decided earlier. Each is returned once.
  std::vector<Release> due(Instant now);

  /// When the next delay or hold deadline falls; nullopt when nothing is waiting on time.
  std::optional<Instant> next_deadline() const;

  /// Everything still waiting (end of run), in arrival order.
  std::vector<Release> release_all();

  /// Add a fault while the run goes (`--control`): on from `now` until remove_fault, counting
  /// from its first match then. Returns its index (after every fault before it).
  std::size_t add_fault(FaultRule rule, Instant now);
  /// Fault `rule` (one add_fault returned) picks no segment from `now` on. What it already delays
  /// or holds keeps the terms it was taken on (its delay, its until or deadline).
  void remove_fault(std::size_t rule, Instant now);
  /// Every fault: the policy's, then those added, in index order.
  const std::vector<FaultRule>& rules() const { return rules_; }

  /// The faults' windows that opened or closed at or before `until`, in time order.
  std::vector<WindowEdge> window_edges(Instant until) const { return windows_.edges(until); }
  /// The faults whose window never opened by `until`.
  std::vector<std::size_t> windows_never_opened(Instant until) const { return windows_.never_opened(until); }

 private:
  struct RuleState;
  struct Waiting;
  RuleState& state_of(std::size_t rule, const Classified& seg);
  // Earlier holds whose `until` `seg` matches are due at `now`.
  void release_by_until(const Classified& seg, Instant now);
  // One draw of `rule` for `seg`, recorded in `decision`; true when it fired.
  bool draw(std::size_t rule, const Classified& seg, RuleState& state, Decision& decision);
  std::vector<FaultRule> rules_;
  bool per_connection_ = false;
  std::uint64_t seed_ = 0;
  std::vector<std::map<std::size_t, RuleState>> state_;  // per rule: per connection (or all: 0)
  std::vector<Waiting> waiting_;
  FaultWindows windows_;
  std::map<std::size_t, Instant> added_at_;  // faults added by control: when
};

/// True when some fault of `policy`, or its [link], acts by chance, so its runs need a seed.
bool draws_at_random(const Policy& policy);

/// True when `seg` matches every field `sel` sets. A `closer` matches only when seg.first_closer
/// is known and names seg's sender.
bool selector_matches(const Selector& sel, const Classified& seg);

}  // namespace lastack
