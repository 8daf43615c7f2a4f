// Built-in invariants about states and the close: legal state changes, who enters TIME_WAIT,
// and whether every byte written arrived intact.
#include "harness/core/oracle/invariants_close.hpp"

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <map>
#include <set>
#include <string>
#include <vector>


#include "harness/core/oracle/close_order.hpp"
#include "harness/core/trace/byte_pattern.hpp"
#include "harness/core/trace/connection_scope.hpp"
#include "harness/core/oracle/invariant_support.hpp"
#include "harness/core/oracle/invariants.hpp"
#include "harness/core/trace/state_history.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "lastack/per_side.hpp"

namespace lastack {
namespace {

using detail::builtin;
using detail::judged_builtin;

// One step of a history judged: nullopt when legal, else how not (StepMiss::between when
// sampling could have missed the states between).
std::optional<StepProblem> judge_step(const StateHistory& h, std::size_t i, std::size_t socket) {
  const StateStep& s = h.steps[i];
  const bool exact = s.source != StateSource::sampled && s.from;
  std::optional<TcpState> from = exact ? s.from : std::nullopt;
  if (!exact && i > 0) from = h.steps[i - 1].state;
  if (!from) return std::nullopt;
  if (*from == TcpState::CLOSE && !exact) return std::nullopt;  // a later sample is a new socket
  if (*from == s.state && !exact) return std::nullopt;  // a sample confirming an inferred state: no step
  // The full socket handing its FIN_WAIT_2 over to a timewait socket in FIN_WAIT_2: no new state.
  if (*from == s.state && s.source == StateSource::handover) return std::nullopt;
  if (legal_step(*from, s.state)) return std::nullopt;
  if (exact) return StepProblem{socket, *from, s.state, StepMiss::not_a_step};
  // A listener never becomes a connection (the child is another socket): only CLOSE follows it.
  if (*from != TcpState::LISTEN && legal_transition(*from, s.state))
    return StepProblem{socket, *from, s.state, StepMiss::between};
  return StepProblem{socket, *from, s.state, StepMiss::unreachable};
}

// A socket's history as the finding keeps it.
SocketStates socket_states(const StateHistory& h) {
  SocketStates out{h.side, h.listener ? SocketKind::listener : h.request ? SocketKind::request : SocketKind::connection,
                   h.local_port, h.remote_port, {}};
  out.steps = path_steps(h);
  return out;
}

}  // namespace

std::vector<PathStep> path_steps(const StateHistory& h) {
  std::vector<PathStep> out;
  for (const ShownStep& s : shown_steps(h)) {
    const StateKnown known = s.source == StateSource::inferred   ? StateKnown::inferred
                             : s.form == SocketForm::timewait    ? StateKnown::timewait_socket
                             : s.form == SocketForm::request     ? StateKnown::request_socket
                                                                 : StateKnown::observed;
    const PathEvidence evidence = s.source == StateSource::traced     ? PathEvidence::traced
                                  : s.source == StateSource::handover ? PathEvidence::handover
                                  : s.source == StateSource::inferred ? PathEvidence::inferred
                                                                      : PathEvidence::sampled;
    out.push_back({s.state, known, evidence, s.from_wire});
  }
  return out;
}

CheckResult check_legal_states(const Trace& trace) {
  Finding f = builtin(CheckKind::legal_states);
  LegalStatesSeen seen;
  auto histories = state_histories(trace);
  // Sockets the policy is not about are listed apart, never judged.
  const WirePorts wire(trace);
  std::erase_if(histories, [&](const StateHistory& h) {
    if (!off_the_wire(wire, h)) return false;
    seen.apart.push_back(socket_states(h));
    return true;
  });
  for (const StateHistory& h : histories) {
    seen.sockets.push_back(socket_states(h));
    for (std::size_t i = 0; i < h.steps.size(); ++i)
      if (auto problem = judge_step(h, i, seen.sockets.size() - 1)) seen.problems.push_back(*problem);
  }
  const auto broken = std::count_if(seen.problems.begin(), seen.problems.end(),
                                    [](const StepProblem& p) { return p.miss != StepMiss::between; });
  Outcome outcome = Outcome::pass;
  if (broken > 0) {
    outcome = Outcome::fail;
  } else if (histories.empty()) {
    outcome = wire_events(trace).empty() ? Outcome::not_applicable : Outcome::not_checked;
    f.why_not = NotChecked{Unjudged::no_socket_states, {}, {}};
  } else if (!seen.problems.empty()) {
    outcome = Outcome::not_checked;
    f.why_not = NotChecked{Unjudged::between_samples, {}, {}};
  }
  f.saw = std::move(seen);
  return judged_builtin(std::move(f), outcome);
}

namespace {

// How the side's sockets ended, when the kernel said they ended otherwise than by closing.
void end_of(const std::vector<const StateHistory*>& sockets, SideCloseSeen& out) {
  for (const StateHistory* h : sockets) {
    out.error = h->end == SocketEnd::error ? h->error : 0;
    out.end = h->end == SocketEnd::timewait_skipped ? CloseEnd::timewait_skipped
              : h->end == SocketEnd::error          ? CloseEnd::error
              : h->end == SocketEnd::reset          ? CloseEnd::reset
                                                    : CloseEnd::closed;
    if (out.end != CloseEnd::closed) return;
  }
}

// Who entered TIME_WAIT, from the kernel's states alone: an active closer (FIN_WAIT_1, FIN_WAIT_2,
// CLOSING) may, a passive one (CLOSE_WAIT, LAST_ACK) never does. The wire only names who sent a
// FIN for the summary.
SideCloseSeen judge_side(const Trace& trace, const std::vector<const WireEvent*>& wires,
                         const std::vector<StateHistory>& histories, ConnectionIndex c, Side side) {
  SideCloseSeen out;
  out.side = side;
  std::vector<const StateHistory*> sockets;
  std::vector<TcpState>& states = out.path;
  for (const StateHistory& h : histories) {
    if (h.side != side || h.connection != c || h.listener || h.request) continue;
    sockets.push_back(&h);
    for (const StateStep& step : h.steps)
      if (step.source != StateSource::inferred) states.push_back(step.state);
  }
  const auto went_through = [&states](std::initializer_list<TcpState> any) {
    return std::find_first_of(states.begin(), states.end(), any.begin(), any.end()) != states.end();
  };
  const StateEvidence timewait = state_evidence(trace, side, [&] {
    std::vector<StateHistory> own;
    for (const StateHistory* h : sockets) own.push_back(*h);
    return own;
  }(), TcpState::TIME_WAIT);
  const bool entered = timewait.evidence == Evidence::seen;
  const bool passive = went_through({TcpState::CLOSE_WAIT, TcpState::LAST_ACK});
  // Only tcp_time_wait makes TIME_WAIT, from FIN_WAIT_2 or CLOSING: an active closer's states.
  const bool active =
      !passive && (entered || went_through({TcpState::FIN_WAIT1, TcpState::FIN_WAIT2, TcpState::CLOSING}));
  const bool sent_fin = std::any_of(wires.begin(), wires.end(), [&](const WireEvent* w) {
    return w->info.connection == c && w->info.from == side && w->segment.flags.fin() && !w->injected;
  });
  out.turn = active ? CloseTurn::first : passive ? CloseTurn::second : sent_fin ? CloseTurn::sent_fin : CloseTurn::no_fin;
  out.timewait = entered ? Entered::yes : timewait.evidence == Evidence::unknown ? Entered::unknown : Entered::no;
  if (out.timewait == Entered::unknown) out.unknown = timewait.why;
  end_of(sockets, out);
  return out;
}

}  // namespace

CheckResult check_timewait_only_active_closers(const Trace& trace) {
  Finding f = builtin(CheckKind::timewait_only_active_closers);
  const auto wires = wire_events(trace);
  auto histories = on_wire_histories(trace);
  std::set<ConnectionIndex> connections;
  for (const WireEvent* w : wires) connections.insert(w->info.connection);
  for (const StateHistory& h : histories)
    if (h.connection) connections.insert(*h.connection);
  // A socket the wire cannot place belongs to the only connection there is.
  for (StateHistory& h : histories)
    if (!h.connection && connections.size() <= 1)
      h.connection = connections.empty() ? ConnectionIndex{} : *connections.begin();
  if (connections.empty() && !histories.empty()) connections.insert(ConnectionIndex{});

  // Each connection's own segments: judging one never walks the others' (many connections).
  std::map<ConnectionIndex, std::vector<const WireEvent*>> by_connection;
  for (const WireEvent* w : wires) by_connection[w->info.connection].push_back(w);
  ClosersSeen seen;
  seen.numbered = connections.size() > 1;
  bool broken = false, unknown = false;
  for (const ConnectionIndex c : connections) {
    const auto& own = by_connection[c];
    ConnectionCloseSeen close{number_of(c), {judge_side(trace, own, histories, c, Side::client),
                                             judge_side(trace, own, histories, c, Side::server)}};
    for (const SideCloseSeen* s : {&close.sides.client, &close.sides.server}) {
      broken = broken || (s->timewait == Entered::yes && s->turn == CloseTurn::second);
      unknown = unknown || (s->turn == CloseTurn::first && s->timewait == Entered::unknown);
    }
    seen.connections.push_back(std::move(close));
  }
  Outcome outcome = Outcome::pass;
  if (broken) {
    outcome = Outcome::fail;
  } else if (connections.empty()) {
    outcome = Outcome::not_applicable;
  } else if (unknown) {
    outcome = Outcome::not_checked;
    f.why_not = NotChecked{Unjudged::timewait_unknown, {}, {}};
  }
  f.saw = std::move(seen);
  return judged_builtin(std::move(f), outcome);
}

namespace {

// The sides whose app the policy expects to read old bytes (check = "app", stale-from = N): their
// corrupted ranges from that connection are the experiment, judged by that expectation.
bool stale_expected(const Trace& trace, const Policy& policy, const AppEvent& a) {
  const AgentStepFacts* s = a.agent_step();
  const auto from = s && s->corrupted_from ? pattern_connection(*s->corrupted_from, policy.scenario.connections)
                                           : std::nullopt;
  if (!from) return false;
  for (const Expectation& e : policy.expect)
    if (const auto* x = std::get_if<AppExpect>(&e);
        x && x->stale_from && side_on(trace, x->side) == a.side && *x->stale_from == number_of(*from))
      return true;
  return false;
}

}  // namespace

CheckResult check_bytes_delivered(const Trace& trace, const Policy& policy) {
  Finding f = builtin(CheckKind::bytes_delivered);
  DeliverySeen seen;
  for (const TraceEvent& ev : trace.events) {
    const auto* a = std::get_if<AppEvent>(&ev);
    const AgentStepFacts* s = a ? a->agent_step() : nullptr;
    if (!s) continue;
    const bool exchange = s->kind == StepKind::exchange || s->kind == StepKind::answer;  // N each way
    const bool send = s->kind == StepKind::send || exchange;
    const bool recv = s->kind == StepKind::recv || s->kind == StepKind::recv_until_eof || exchange;
    seen.transfers = seen.transfers || send || recv;
    if (send && a->result == StepResult::ok) seen.wrote[a->side] += a->bytes;
    if (recv) seen.read[a->side] += a->bytes;
    if (recv && a->bytes > 0 && !s->verified) seen.unverified = true;
    if (s->corrupted && stale_expected(trace, policy, *a)) {
      seen.stale_expected = true;
    } else if (s->corrupted) {
      CorruptedRead bad{a->side, a->step, *s->corrupted, s->corrupted_from, {}};
      // Copies of `connections = N` number their connections by the client's port (byte_pattern).
      if (const auto& o = s->corrupted_from)
        if (const auto c = pattern_connection(*o, policy.scenario.connections)) bad.connection = number_of(*c);
      seen.corrupted.push_back(std::move(bad));
    }
    if (a->result != StepResult::ok && a->result != StepResult::eof)
      seen.errors.push_back({a->side, a->step, a->outcome});
  }
  seen.reset = any_reset(trace);
  Outcome outcome = Outcome::pass;
  if (!seen.corrupted.empty()) {
    outcome = Outcome::fail;
  } else if (!seen.transfers) {
    // `lastack exec`: the user's programs move bytes lastack cannot count.
    outcome = Outcome::not_applicable;
  } else if (seen.reset || !seen.errors.empty()) {
    outcome = Outcome::not_checked;
    f.why_not = NotChecked{Unjudged::intervened, {}, {}};
  } else if (seen.wrote.client != seen.read.server || seen.wrote.server != seen.read.client) {
    outcome = Outcome::fail;
  } else if (seen.unverified) {
    outcome = Outcome::not_checked;
    f.why_not = NotChecked{Unjudged::unverified, {}, {}};
  }
  f.saw = std::move(seen);
  return judged_builtin(std::move(f), outcome);
}

}  // namespace lastack
