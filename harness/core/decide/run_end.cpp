// The run's end as a state machine: one transition per input, its tasks in order.
#include "harness/core/decide/run_end.hpp"

#include <utility>

#include "harness/core/decide/quiescence.hpp"

namespace lastack::run_end {

namespace {

// The end's tasks, in the order the trace's meaning depends on (see Task).
const std::vector<Action>& end_tasks() {
  static const std::vector<Action> tasks = {
      {Task::record_pending}, {Task::sample_final},  {Task::read_counters},    {Task::mark_run_end},
      {Task::cancel_timers},  {Task::stop_agents},   {Task::end_processes},    {Task::stop_interceptor},
      {Task::stop_capture},   {Task::stop_observers}};
  return tasks;
}

Transition end(State state, std::vector<Action> first = {}) {
  state.phase = Phase::ended;
  first.insert(first.end(), end_tasks().begin(), end_tasks().end());
  return {state, std::move(first)};
}

Transition on_agent_done(const Rules& rules, State state, const AgentDone& done) {
  ++state.agents_done;
  if (state.phase != Phase::running) return {state, {}};  // the other side of a `finish` run
  if (rules.finish_with ? *rules.finish_with != done.side : state.agents_done < 2) return {state, {}};
  state.phase = Phase::settling;
  state.settle_until = done.at + rules.settle;
  std::vector<Action> actions = {{Task::start_settle, rules.settle}};
  if (rules.may_end_early && state.agents_done == 2) actions.push_back({Task::arm_settled_poll, settled_poll});
  return {state, std::move(actions)};
}

Transition on_settled_poll(State state, const SettledPoll& poll) {
  if (state.phase != Phase::settling) return {state, {}};
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(state.settle_until - poll.at);
  if (left <= std::chrono::milliseconds(0)) return {state, {}};  // the settle timer ends the run
  state.looked_at = poll.at;
  return {state, {{Task::look_settled, left}}};
}

// Ends once, for settled_grace, the run was settled and no new segment appeared: then nothing
// the checks look at can change before the settle time would have ended it.
Transition on_settled_look(State state, const SettledLook& look) {
  if (state.phase != Phase::settling) return {state, {}};
  const Instant now = state.looked_at;
  if (!look.settled || look.activity != state.settled_activity || !state.settled_since)
    state.settled_since = look.settled ? std::optional(now) : std::nullopt;
  state.settled_activity = look.activity;
  if (state.settled_since && now - *state.settled_since >= settled_grace) return end(state);
  return {state, {{Task::arm_settled_poll, settled_poll}}};
}

Transition on_settle_timer(State state) {
  if (state.phase != Phase::settling && state.phase != Phase::awaiting_evidence) return {state, {}};
  state.phase = Phase::awaiting_evidence;
  return {state, {{Task::look_evidence}}};
}

// Keeps observing while anything is due before the deadline; what is due later cannot come in time.
Transition on_evidence_look(const Rules& rules, State state, const EvidenceLook& look) {
  if (state.phase != Phase::awaiting_evidence) return {state, {}};
  if (look.first_due && *look.first_due < rules.deadline) return {state, {{Task::arm_evidence_poll, evidence_poll}}};
  return end(state);
}

}  // namespace

Transition next(const Rules& rules, const State& state, const Input& input) {
  if (state.phase == Phase::ended) return {state, {}};
  if (const auto* done = std::get_if<AgentDone>(&input)) return on_agent_done(rules, state, *done);
  // Programs still running are a timeout; done ones were only being watched for what the kernel
  // could still add, and the pending list says what that was.
  if (std::holds_alternative<Timeout>(input))
    return state.phase == Phase::running ? end(state, {{Task::record_timeout}}) : end(state);
  if (std::holds_alternative<SettleTimer>(input)) return on_settle_timer(state);
  if (const auto* poll = std::get_if<SettledPoll>(&input)) return on_settled_poll(state, *poll);
  if (const auto* look = std::get_if<SettledLook>(&input)) return on_settled_look(state, *look);
  return on_evidence_look(rules, state, std::get<EvidenceLook>(input));
}

std::string_view phase_name(Phase p) {
  switch (p) {
    case Phase::running: return "running";
    case Phase::settling: return "settling";
    case Phase::awaiting_evidence: return "awaiting-evidence";
    case Phase::ended: break;
  }
  return "ended";
}

std::string_view task_name(Task t) {
  switch (t) {
    case Task::start_settle: return "start-settle";
    case Task::arm_settled_poll: return "arm-settled-poll";
    case Task::look_settled: return "look-settled";
    case Task::look_evidence: return "look-evidence";
    case Task::arm_evidence_poll: return "arm-evidence-poll";
    case Task::record_timeout: return "record-timeout";
    case Task::record_pending: return "record-pending";
    case Task::sample_final: return "sample-final";
    case Task::read_counters: return "read-counters";
    case Task::mark_run_end: return "mark-run-end";
    case Task::cancel_timers: return "cancel-timers";
    case Task::stop_agents: return "stop-agents";
    case Task::end_processes: return "end-processes";
    case Task::stop_interceptor: return "stop-interceptor";
    case Task::stop_capture: return "stop-capture";
    case Task::stop_observers: break;
  }
  return "stop-observers";
}

}  // namespace lastack::run_end
