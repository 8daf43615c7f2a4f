#pragma once
// When a run ends (docs/design.md, "When a run ends"), as an explicit phase: the programs run;
// once they are done the run settles (ending early only when nothing can change, core/
// quiescence); then it keeps observing while evidence is due before the deadline; then it ends,
// in a fixed order. Pure: one transition function, fed what happened (an agent done, a timer, what
// a look saw), answering the next phase and what the run must do, in order. RunDriver
// (harness/engine/run_driver.cpp) performs the tasks and feeds back the looks' answers.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "lastack/clock.hpp"
#include "lastack/policy.hpp"
#include "lastack/roles.hpp"

namespace lastack::run_end {

/// How often a run past its settle time looks for evidence still to come.
inline constexpr std::chrono::milliseconds evidence_poll{20};
/// How often a settling run looks whether it may end early (core/quiescence).
inline constexpr std::chrono::milliseconds settled_poll{4};

/// Where a run is in its ending.
enum class Phase : std::uint8_t {
  running,            // the programs run: only the timeout ends the run
  settling,           // the programs are done: observe the settle time (less only once settled)
  awaiting_evidence,  // the settle time is over: observe while evidence is due before the deadline
  ended,              // the run's end is taken: every later input is ignored
};
/// "running", "settling", "awaiting-evidence", "ended".
std::string_view phase_name(Phase p);

/// The run's terms, fixed when it starts.
struct Rules {
  Millis settle{500};               // Scenario::settle: the least a run observes once done
  Instant deadline{};               // Scenario::timeout on the run's clock
  std::optional<Side> finish_with;  // the side whose end starts the settle; none: both sides'
  // Nothing outside the lab's sockets can act once both agents are done (no `finish` side, no
  // user commands under `lastack exec`, whose children could still connect): it may end early.
  bool may_end_early = false;
};

/// The phase, and what it remembers.
struct State {
  Phase phase = Phase::running;
  int agents_done = 0;
  Instant settle_until{};                // when the settle time is up
  Instant looked_at{};                   // when the settled look under way began
  std::optional<Instant> settled_since;  // settled, with no new segment, since then
  std::size_t settled_activity = 0;      // segments logged and captured at the last look
  bool operator==(const State&) const = default;
};

/// What happened.
struct AgentDone {  // one agent (or exec's command) ended its steps
  Side side = Side::client;
  Instant at{};
};
struct Timeout {};      // the scenario's timeout timer fired
struct SettleTimer {};  // the settle timer fired: the settle time is up, or an evidence poll is due
struct SettledPoll {    // the settled poll's timer fired
  Instant at{};
};
struct SettledLook {  // the answer to look_settled
  bool settled = false;       // nothing held, delayed or pending, every socket settled (quiescence)
  std::size_t activity = 0;   // segments logged and frames captured so far
};
struct EvidenceLook {  // the answer to look_evidence
  std::optional<Instant> first_due;  // when the first evidence still pending is due; none: nothing
};
using Input = std::variant<AgentDone, Timeout, SettleTimer, SettledPoll, SettledLook, EvidenceLook>;

/// What the run must do.
enum class Task : std::uint8_t {
  start_settle,       // the wire last moved now; arm the settle timer for `wait` (the settle time)
  arm_settled_poll,   // arm the settled poll's timer for `wait`
  look_settled,       // look whether the run is settled for `wait` (the settle time left): answer SettledLook
  look_evidence,      // list what is pending now: answer EvidenceLook
  arm_evidence_poll,  // arm the settle timer for `wait`
  record_timeout,     // log the timeout: the programs did not finish
  // The run's end, always these, in this order:
  record_pending,     // what could still have added evidence (Trace::pending_at_end)
  sample_final,       // the sockets as the run leaves them: their last sample lists every one
  read_counters,      // before the agents stop: what their stop sends belongs to the teardown
  mark_run_end,       // after the counters: every event they counted happened by run_end
  cancel_timers,      // the settle, settled-poll and timeout timers
  stop_agents,
  end_processes,      // what the commands left running (a daemon) ends with the run
  stop_interceptor,   // held and delayed segments go into the teardown
  stop_capture,       // after the interceptor: what it released has left wire by now
  stop_observers,     // sock_diag and BPF
};
/// "start-settle", "read-counters", ...
std::string_view task_name(Task t);

/// One task, with its time where it has one.
struct Action {
  Task task = Task::record_pending;
  std::chrono::milliseconds wait{0};
  bool operator==(const Action&) const = default;
};

/// The next phase and its state, and the tasks to perform, in order.
struct Transition {
  State state;
  std::vector<Action> actions;
};

/// The one transition: from `state`, on `input`, under `rules`. Inputs a phase does not expect
/// (anything once ended, a look's answer outside its phase) change nothing and ask for nothing.
Transition next(const Rules& rules, const State& state, const Input& input);

}  // namespace lastack::run_end
