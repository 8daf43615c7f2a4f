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

#include <fmt/format.h>

#include "harness/core/oracle/close_order.hpp"
#include "harness/core/trace/byte_pattern.hpp"
#include "harness/core/trace/connection_scope.hpp"
#include "harness/core/base/errno_name.hpp"
#include "harness/core/oracle/invariant_support.hpp"
#include "harness/core/oracle/invariants.hpp"
#include "harness/core/trace/state_history.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "lastack/per_side.hpp"

namespace lastack {
namespace {

using detail::builtin;
using detail::seen_as_words;
using detail::join_some;

// One step of a history judged: empty when legal, else why not; `unchecked` when sampling
// could have missed the states between.
std::string judge_step(const StateHistory& h, std::size_t i, bool& unchecked) {
  const StateStep& s = h.steps[i];
  unchecked = false;
  const bool exact = s.source != StateSource::sampled && s.from;
  std::optional<TcpState> from = exact ? s.from : std::nullopt;
  if (!exact && i > 0) from = h.steps[i - 1].state;
  if (!from) return {};
  if (*from == TcpState::CLOSE && !exact) return {};  // a later sample is a new socket
  if (*from == s.state && !exact) return {};  // a sample confirming an inferred state: no step
  // The full socket handing its FIN_WAIT_2 over to a timewait socket in FIN_WAIT_2: no new state.
  if (*from == s.state && s.source == StateSource::handover) return {};
  if (legal_step(*from, s.state)) return {};
  const std::string step = fmt::format("{} → {}", state_name(*from), state_name(s.state));
  if (exact) return step + " is not a step of the TCP state diagram (traced)";
  // A listener never becomes a connection (the child is another socket): only CLOSE follows it.
  if (*from != TcpState::LISTEN && legal_transition(*from, s.state)) {
    unchecked = true;
    return step + " skips states between samples";
  }
  return step + " is not reachable in the TCP state diagram";
}

}  // namespace

CheckResult check_legal_states(const Trace& trace) {
  CheckResult r = builtin(CheckKind::legal_states);
  std::vector<std::string> paths, bad, unjudged, apart;
  auto histories = state_histories(trace);
  // Sockets the policy is not about are listed apart, never judged.
  const WirePorts wire(trace);
  std::erase_if(histories, [&](const StateHistory& h) {
    if (!off_the_wire(wire, h)) return false;
    apart.push_back(history_text(h));
    return true;
  });
  std::size_t steps = 0;
  for (const StateHistory& h : histories) {
    paths.push_back(fmt::format("{}: {}", history_text(h), steps_text(h)));
    for (std::size_t i = 0; i < h.steps.size(); ++i) {
      bool unchecked = false;
      const std::string problem = judge_step(h, i, unchecked);
      ++steps;
      if (problem.empty()) continue;
      (unchecked ? unjudged : bad)
          .push_back(fmt::format("{}: {} ({})", history_text(h), problem, steps_text(h)));
    }
  }
  if (!bad.empty()) {
    r.outcome = Outcome::fail;
    r.saw = join_some(bad);
  } else if (histories.empty()) {
    r.outcome = wire_events(trace).empty() ? Outcome::not_applicable : Outcome::not_checked;
    r.saw = "no socket states observed";
  } else if (!unjudged.empty()) {
    r.outcome = Outcome::not_checked;
    r.saw = fmt::format("{} step{} judged by reachability only, since {}: {}", unjudged.size(),
                        unjudged.size() == 1 ? "" : "s", sampling_note, join_some(unjudged, 2));
  } else {
    r.outcome = Outcome::pass;
    r.saw = join_some(paths, 4);
  }
  if (!apart.empty()) r.saw += fmt::format("; off the wire, not judged: {}", join_some(apart, 3));
  return seen_as_words(std::move(r));
}

namespace {

// What one side of connection `c` did, for timewait-only-active-closers.
struct SideClose {
  std::string summary;          // "client closed first, entered TIME_WAIT"
  std::optional<std::string> problem;
  std::optional<std::string> unknown;  // why TIME_WAIT cannot be judged
};

// How the side's sockets ended, when the kernel said they ended otherwise than by closing.
std::string end_text(const std::vector<const StateHistory*>& sockets) {
  for (const StateHistory* h : sockets) {
    if (h->end == SocketEnd::timewait_skipped) return ", skipped TIME_WAIT (TcpExt.TCPTimeWaitOverflow counted it)";
    if (h->end == SocketEnd::error) return fmt::format(", closed with error {}", errno_name(h->error));
    if (h->end == SocketEnd::reset) return ", closed with a RST of its own";
  }
  return "";
}

// Who entered TIME_WAIT, from the kernel's states alone: an active closer (FIN_WAIT_1, FIN_WAIT_2,
// CLOSING) may, a passive one (CLOSE_WAIT, LAST_ACK) never does. The wire only names who sent a
// FIN for the summary.
SideClose judge_side(const Trace& trace, const std::vector<const WireEvent*>& wires,
                     const std::vector<StateHistory>& histories, ConnectionIndex c, Side side,
                     const std::string& prefix) {
  SideClose out;
  std::vector<const StateHistory*> sockets;
  std::vector<TcpState> states;
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
  const std::string name(side_name(side));
  const char* how = active ? "closed first" : passive ? "closed second" : sent_fin ? "sent a FIN" : "sent no FIN";
  std::string path;
  for (TcpState s : states) path += (path.empty() ? "" : " → ") + std::string(state_name(s));
  if (path.empty()) path = "no states observed";
  out.summary = fmt::format("{} {}, {}{}", name, how,
                            entered                                       ? "entered TIME_WAIT"
                            : timewait.evidence == Evidence::unknown ? "TIME_WAIT not known"
                                                                          : "no TIME_WAIT",
                            end_text(sockets));
  if (entered && passive)
    out.problem = fmt::format("{}{} entered TIME_WAIT but closed second ({})", prefix, name, path);
  else if (active && timewait.evidence == Evidence::unknown)
    out.unknown = fmt::format("{}{}: {}", prefix, name, timewait.why);
  return out;
}

}  // namespace

CheckResult check_timewait_only_active_closers(const Trace& trace) {
  CheckResult r = builtin(CheckKind::timewait_only_active_closers);
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
  std::vector<std::string> summary, bad, unknown;
  for (const ConnectionIndex c : connections) {
    const std::string prefix = connections.size() > 1 ? fmt::format("connection {}: ", number_of(c).value) : "";
    const auto& own = by_connection[c];
    const SideClose a = judge_side(trace, own, histories, c, Side::client, prefix);
    const SideClose b = judge_side(trace, own, histories, c, Side::server, prefix);
    for (const SideClose* s : {&a, &b}) {
      if (s->problem) bad.push_back(*s->problem);
      if (s->unknown) unknown.push_back(*s->unknown);
    }
    summary.push_back(prefix + a.summary + "; " + b.summary);
  }
  if (!bad.empty()) {
    r.outcome = Outcome::fail;
    r.saw = join_some(bad);
  } else if (connections.empty()) {
    r.outcome = Outcome::not_applicable;
    r.saw = "no connection seen";
  } else if (!unknown.empty()) {
    r.outcome = Outcome::not_checked;
    r.saw = join_some(unknown);
  } else {
    r.outcome = Outcome::pass;
    r.saw = join_some(summary);
  }
  return seen_as_words(std::move(r));
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
  CheckResult r = builtin(CheckKind::bytes_delivered);
  PerSide<std::uint64_t> wrote, read;
  std::vector<std::string> errors, corrupted;
  bool any_transfer = false, unverified = false, expected_stale = false;
  for (const TraceEvent& ev : trace.events) {
    const auto* a = std::get_if<AppEvent>(&ev);
    const AgentStepFacts* s = a ? a->agent_step() : nullptr;
    if (!s) continue;
    const bool exchange = s->kind == StepKind::exchange || s->kind == StepKind::answer;  // N each way
    const bool send = s->kind == StepKind::send || exchange;
    const bool recv = s->kind == StepKind::recv || s->kind == StepKind::recv_until_eof || exchange;
    any_transfer = any_transfer || send || recv;
    if (send && a->result == StepResult::ok) wrote[a->side] += a->bytes;
    if (recv) read[a->side] += a->bytes;
    if (recv && a->bytes > 0 && !s->verified) unverified = true;
    if (s->corrupted && stale_expected(trace, policy, *a)) {
      expected_stale = true;
    } else if (s->corrupted) {
      std::string text = fmt::format("{} {}: bytes {}..{} of the stream are not what the {} wrote",
                                     side_name(a->side), a->step, s->corrupted->begin,
                                     s->corrupted->end, side_name(peer_of(a->side)));
      // Copies of `connections = N` number their connections by the client's port (byte_pattern).
      if (const auto& o = s->corrupted_from) {
        const auto c = pattern_connection(*o, policy.scenario.connections);
        text += c ? fmt::format(" (they are the {}'s bytes {}.. of connection {})", side_name(o->side), o->offset,
                                number_of(*c).value)
                  : fmt::format(" (they are the {}'s bytes {}.. of the connection from client port {})",
                                side_name(o->side), o->offset, o->stream);
      }
      corrupted.push_back(text);
    }
    if (a->result != StepResult::ok && a->result != StepResult::eof)
      errors.push_back(fmt::format("{} {}: {}", side_name(a->side), a->step, a->outcome));
  }
  const std::string counts =
      fmt::format("client wrote {} bytes, server read {}; server wrote {}, client read {}",
                  wrote.client, read.server, wrote.server, read.client);
  if (!corrupted.empty()) {
    r.outcome = Outcome::fail;
    r.saw = join_some(corrupted);
  } else if (!any_transfer) {
    // `lastack exec`: the user's programs move bytes lastack cannot count.
    r.outcome = Outcome::not_applicable;
    r.saw = "no agent send or recv steps in the trace";
  } else if (any_reset(trace)) {
    r.outcome = Outcome::not_checked;
    r.saw = "an RST was on the wire (" + counts + ")";
  } else if (!errors.empty()) {
    r.outcome = Outcome::not_checked;
    r.saw = join_some(errors) + " (" + counts + ")";
  } else if (wrote.client != read.server || wrote.server != read.client) {
    r.outcome = Outcome::fail;
    r.saw = counts;
  } else if (unverified) {
    r.outcome = Outcome::not_checked;
    r.saw = counts + "; the content of some reads was not verified";
  } else {
    r.outcome = Outcome::pass;
    r.saw = counts + (expected_stale ? "; every byte read matched its pattern, but for the old connection's "
                                       "bytes the policy expects (its app check judges them)"
                                     : "; every byte read matched its pattern");
  }
  return seen_as_words(std::move(r));
}

}  // namespace lastack
