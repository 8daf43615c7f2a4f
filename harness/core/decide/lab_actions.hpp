#pragma once
// The lab-action engine, beside the decision engine: for each segment on the wire, which [[lab]]
// actions it triggers (destroy a TIME_WAIT, inject a RST), on which side, and after how long.
// Pure: fed classified segments in wire order and the actions' completions; the run performs them.
#include <cstddef>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lastack/flow_tracker.hpp"
#include "lastack/policy.hpp"

namespace lastack {

/// One lab action a segment triggered.
struct LabFiring {
  std::size_t action = 0;    // index into Policy::lab
  Side side = Side::client;  // the side acted on, resolved when triggered (first-closer: from the FIN seen)
  Millis after{0};           // how long after the trigger it runs
  bool operator==(const LabFiring&) const = default;
};

/// Applies Policy::lab to segments: each action fires once, on the first segment its `on`
/// selector matches (under `per_connection`, once per connection, each on its own).
class LabActionEngine {
 public:
  /// `per_connection` (Scenario::per_connection(): connections = N, exec): each connection
  /// fires its own copy of every action.
  LabActionEngine(std::vector<LabAction> actions, bool per_connection);

  /// The actions `seg` triggers, in the policy's order; each is then pending until done(). An
  /// action whose side is named by the order of closing waits while the connection has had no
  /// FIN (nobody is a closer yet): a later segment may trigger it.
  std::vector<LabFiring> on_segment(const Classified& seg);

  /// One triggered action ran, or its wait was cancelled: it is no longer pending.
  void done();

  /// Actions triggered that have not run yet (evidence still to come).
  std::size_t pending() const { return pending_; }

 private:
  std::vector<LabAction> actions_;
  bool per_connection_ = false;
  std::set<std::pair<std::size_t, std::size_t>> fired_;  // (action, connection or 0)
  std::size_t pending_ = 0;
};

/// The lab event's words for destroy-timewait on `side`: "destroyed TIME_WAIT on server: 1
/// socket (SOCK_DESTROY)", the side as the policy named it ("first-closer (server)").
std::string timewait_destroyed_text(const LabAction& action, Side side, std::size_t destroyed);

/// The note an injected RST carries: "injected by lab action 2: inject-rst" (`action` 0-based).
std::string injected_rst_note(std::size_t action);

}  // namespace lastack
