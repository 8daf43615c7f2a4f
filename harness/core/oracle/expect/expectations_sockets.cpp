// check = "socket-held": a socket the app never closes (CLOSE_WAIT after the peer's FIN, say),
// judged on each socket's state history. Exact when states are traced; when they are sampled,
// a state seen is evidence and a state not seen is proof only where sampling cannot miss it.
#include "harness/core/oracle/expect/expectations_sockets.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/oracle/expect/expectations.hpp"
#include "harness/core/oracle/words/finding_words.hpp"
#include "harness/core/trace/socket_samples.hpp"
#include "harness/core/trace/state_history.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "lastack/oracle.hpp"

namespace lastack {

using namespace detail;

namespace {

bool wanted(const SocketHeldExpect& x, TcpState s) {
  return std::find(x.states.begin(), x.states.end(), s) != x.states.end();
}

// When the run ended: before its teardown stopped the apps (which closes what they held), else
// when observation ended (the observers' stop, or the last event in an older trace).
Instant run_end(const Trace& trace) {
  if (trace.run_end) return *trace.run_end;
  Instant end = trace.observed_until.value_or(Instant{});
  for (const TraceEvent& ev : trace.events) end = std::max(end, event_time(ev));
  return end;
}

// The history up to the run's end: what the teardown did after it is not the app's doing.
StateHistory until_end(const StateHistory& h, Instant end) {
  StateHistory cut = h;
  std::erase_if(cut.steps, [end](const StateStep& s) { return s.at > end; });
  return cut;
}

// True when `s` comes from sock_diag samples in this trace: every state when sampled; with
// tracepoints, only the timewait socket's (TIME_WAIT, an orphan's FIN_WAIT_2).
bool sampled_state(const Trace& trace, TcpState s) {
  return trace.kernel_source == KernelSource::sampled || s == TcpState::TIME_WAIT || s == TcpState::FIN_WAIT2;
}

// The socket `h` as a finding names it: its addresses from its segments on the wire.
SocketSeen socket_seen(const Trace& trace, const StateHistory& h) {
  SocketSeen out{h.side, h.listener, {}, {}, h.local_port, h.remote_port, {}};
  if (h.connection) out.connection = number_of(*h.connection);
  for (const WireEvent* w : wire_events(trace)) {
    const bool sent = w->info.from == h.side && w->segment.sport == h.local_port && w->segment.dport == h.remote_port;
    const bool got = w->info.from != h.side && w->segment.dport == h.local_port && w->segment.sport == h.remote_port;
    if (!sent && !got) continue;
    out.local = sent ? w->segment.src : w->segment.dst;
    out.remote = sent ? w->segment.dst : w->segment.src;
    break;
  }
  return out;
}

// When step `i` of `h` began: exactly when traced or inferred, else between two samples.
InstantBounds step_began(const Trace& trace, const StateHistory& h, std::size_t i) {
  const StateStep& step = h.steps[i];
  if (step.source != StateSource::sampled) return {step.at, step.at};
  return sampled_change(trace, h.side, step.at);
}

// Every stretch in an expected state, with how long it lasted as far as the trace tells: a
// sampled step's change happened between the sample before and the one that showed it.
std::vector<HoldSeen> holds_of(const Trace& trace, const StateHistory& h, const SocketHeldExpect& x, Instant end,
                               const SocketSeen& socket) {
  std::vector<HoldSeen> out;
  for (std::size_t i = 0; i < h.steps.size(); ++i) {
    const StateStep& step = h.steps[i];
    if (!wanted(x, step.state)) continue;
    HoldSeen hold{socket, step.state, {}, {}, false, false};
    const InstantBounds began = step_began(trace, h, i);
    const bool enter_exact = step.source != StateSource::sampled;
    if (i + 1 < h.steps.size()) {
      const InstantBounds left = step_began(trace, h, i + 1);
      hold.at_least = std::max(Duration{}, left.earliest - began.latest);
      hold.at_most = left.latest - began.earliest;
      hold.exact = enter_exact && h.steps[i + 1].source != StateSource::sampled;
    } else {
      hold.at_end = true;
      hold.at_least = std::max(Duration{}, end - began.latest);
      hold.at_most = end - began.earliest;
      hold.exact = enter_exact;
    }
    out.push_back(hold);
  }
  return out;
}

// What one socket says about the expectation: its holds that break it (into `seen.held`), those
// it cannot judge (`seen.unknowns`); returns every hold in a claimed state.
std::vector<HoldSeen> judge_socket(const Trace& trace, const StateHistory& whole, const SocketHeldExpect& x,
                                   Instant end, HoldsSeen& seen) {
  const StateHistory h = until_end(whole, end);
  if (h.steps.empty()) return {};  // it appeared in the teardown
  const SocketSeen socket = socket_seen(trace, h);
  const auto doubt = [&](HoldDoubt d, TcpState state, Duration at_least = {}, Duration at_most = {}) {
    seen.unknowns.push_back({socket, d, state, at_least, at_most, {}});
  };
  for (TcpState s : x.states)
    if ((s == TcpState::TIME_WAIT || s == TcpState::FIN_WAIT2) && !h.timewait_unknown.empty())
      seen.unknowns.push_back({socket, HoldDoubt::timewait_unknown, s, {}, {}, h.timewait_unknown});
  const bool known = last_state_known(trace, h, end);
  std::vector<HoldSeen> holds = holds_of(trace, h, x, end, socket);
  for (const HoldSeen& hold : holds) {
    if (!x.longer_than) {
      if (!hold.at_end) continue;
      if (known) seen.held.push_back(hold);
      else doubt(HoldDoubt::sampled_at_end, hold.state);
    } else if (hold.at_least > *x.longer_than) {
      seen.held.push_back(hold);
    } else if (hold.at_end) {
      doubt(HoldDoubt::ended_before_bound, hold.state, hold.at_least);
    } else if (hold.at_most > *x.longer_than) {
      doubt(HoldDoubt::between_samples, hold.state, hold.at_least, hold.at_most);
    }
  }
  // A sampled socket whose last state is not known may have entered an expected state at the end.
  const TcpState last = h.steps.back().state;
  if (!x.longer_than && !known && !wanted(x, last))
    for (TcpState s : x.states)
      if (legal_transition(last, s)) {
        doubt(HoldDoubt::last_state_unknown, last);
        break;
      }
  return holds;
}

}  // namespace

CheckResult check_socket_held(const Trace& trace, const SocketHeldExpect& asked) {
  // "rtt": the round trip this run measured (a [link] makes it long), with its timing bound:
  // nominal one round trip, late by up to the bound's slack (timer, another round trip, host, wire).
  SocketHeldExpect x = asked;
  const Duration rtt = asked.longer_than_rtt ? measured_rtt(trace).value_or(Duration{}) : Duration{};
  const TimingBound bound = asked.longer_than_rtt ? timing_bound(trace, rtt) : TimingBound{};
  if (asked.longer_than_rtt) x.longer_than = std::chrono::ceil<Millis>(rtt + bound.late);
  // A closer no FIN resolves judges both sides' sockets (the check is not checked then).
  HeldClaim claim{x.states, x.longer_than, {}};
  if (asked.longer_than_rtt) claim.rtt = HeldClaim::RoundTrip{rtt, bound};
  Finding f{CheckId{CheckKind::socket_held, side_subject(trace, x.side), {}}, claim, NothingSeen{}, {}, {}, {}};
  const std::optional<Side> side = f.check.subject.resolved;
  std::vector<const StateHistory*> sockets;
  const auto histories = on_wire_histories(trace);
  for (const StateHistory& h : histories)
    if ((!side || h.side == *side) && !h.steps.empty()) sockets.push_back(&h);
  if (sockets.empty()) {
    f.why_not = NotChecked{Unjudged::no_socket_states, {}, {}};
    return judged(std::move(f), Outcome::not_checked, x.line);
  }
  const Instant end = run_end(trace);
  HoldsSeen seen;
  seen.sockets = sockets.size();
  for (const StateHistory* h : sockets)
    for (const HoldSeen& hold : judge_socket(trace, *h, x, end, seen))
      if (!seen.longest || hold.at_least > seen.longest->at_least) seen.longest = hold;
  // Sampling misses a hold shorter than its blind spot: below it, "never seen" proves nothing.
  const bool blind = std::any_of(x.states.begin(), x.states.end(), [&](TcpState s) { return sampled_state(trace, s); });
  const Duration unseen = blind ? longest_unseen(trace, side, end) : Duration{};
  if (x.longer_than && blind && *x.longer_than < unseen) seen.blind_spot = unseen;
  const Outcome outcome = !seen.held.empty()                             ? Outcome::fail
                          : !seen.unknowns.empty() || seen.blind_spot ? Outcome::not_checked
                                                                       : Outcome::pass;
  f.saw = std::move(seen);
  return judged(std::move(f), outcome, x.line);
}

}  // namespace lastack
