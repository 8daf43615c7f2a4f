// check = "socket-held": a socket the app never closes (CLOSE_WAIT after the peer's FIN, say),
// judged on each socket's state history. Exact when states are traced; when they are sampled,
// a state seen is evidence and a state not seen is proof only where sampling cannot miss it.
#include "harness/core/oracle/expect/expectations_sockets.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/core/base/duration_text.hpp"
#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/oracle/expect/expectations.hpp"
#include "harness/core/trace/socket_samples.hpp"
#include "harness/core/trace/state_history.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "lastack/oracle.hpp"

namespace lastack {

using namespace detail;

namespace {

// One stretch of one socket in one of the expected states.
struct Hold {
  const StateHistory* socket = nullptr;
  TcpState state = TcpState::CLOSE_WAIT;
  Duration at_least{}, at_most{};  // how long it was held, as far as the trace can tell
  bool exact = false;              // at_least == at_most (traced, or inferred from the wire)
  bool at_end = false;             // still in the state when observation ended
};

bool wanted(const SocketHeldExpect& x, TcpState s) {
  return std::find(x.states.begin(), x.states.end(), s) != x.states.end();
}

std::string states_text(const std::vector<TcpState>& states) {
  std::vector<std::string> names;
  for (TcpState s : states) names.emplace_back(state_name(s));
  return join(names, " or ");
}

// "1.20 s" from a second up (a leak is measured in seconds), "12.3 ms" below.
std::string held_text(Duration d) {
  if (d >= std::chrono::seconds(1)) return fmt::format("{:.2f} s", std::chrono::duration<double>(d).count());
  return ms_text(d);
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

// "198.18.2.2:8080", "[fd00:2::2]:8080", or "port 8080" when no segment names the address.
std::string endpoint_text(const std::optional<IpAddress>& address, std::uint16_t port) {
  if (!address) return fmt::format("port {}", port);
  if (address->family == IpFamily::v6) return fmt::format("[{}]:{}", address->str(), port);
  return fmt::format("{}:{}", address->str(), port);
}

/// "server socket 198.18.2.2:8080 ← 198.18.1.2:40312 (connection 1)": the arrow points at the
/// server, addresses come from the socket's segments on the wire.
std::string held_socket_text(const Trace& trace, const StateHistory& h) {
  std::optional<IpAddress> local, remote;
  for (const WireEvent* w : wire_events(trace)) {
    const bool sent = w->info.from == h.side && w->segment.sport == h.local_port && w->segment.dport == h.remote_port;
    const bool got = w->info.from != h.side && w->segment.dport == h.local_port && w->segment.sport == h.remote_port;
    if (!sent && !got) continue;
    local = sent ? w->segment.src : w->segment.dst;
    remote = sent ? w->segment.dst : w->segment.src;
    break;
  }
  const std::string connection = h.connection ? fmt::format(" (connection {})", *h.connection + 1) : "";
  if (h.listener) return fmt::format("{} listener {}{}", side_name(h.side), endpoint_text(local, h.local_port), connection);
  return fmt::format("{} socket {} {} {}{}", side_name(h.side), endpoint_text(local, h.local_port),
                     h.side == Side::server ? "←" : "→", endpoint_text(remote, h.remote_port), connection);
}

// When step `i` of `h` began: exactly when traced or inferred, else between two samples.
InstantBounds step_began(const Trace& trace, const StateHistory& h, std::size_t i) {
  const StateStep& step = h.steps[i];
  if (step.source != StateSource::sampled) return {step.at, step.at};
  return sampled_change(trace, h.side, step.at);
}

// Every stretch in an expected state, with how long it lasted as far as the trace tells: a
// sampled step's change happened between the sample before and the one that showed it.
std::vector<Hold> holds_of(const Trace& trace, const StateHistory& h, const SocketHeldExpect& x, Instant end) {
  std::vector<Hold> out;
  for (std::size_t i = 0; i < h.steps.size(); ++i) {
    const StateStep& step = h.steps[i];
    if (!wanted(x, step.state)) continue;
    Hold hold{&h, step.state};
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

std::string hold_text(const Trace& trace, const Hold& h) {
  return fmt::format("{} held {} for {}{}{}", held_socket_text(trace, *h.socket), state_name(h.state),
                     h.exact ? "" : "at least ", held_text(h.at_least), h.at_end ? ", still in it at the end" : "");
}

// What one socket says about the expectation: failing holds, reasons it cannot tell, all holds.
struct SocketFinding {
  std::vector<std::string> problems, unknowns;
  std::vector<Hold> holds;
};

SocketFinding judge_socket(const Trace& trace, const StateHistory& whole, const SocketHeldExpect& x, Instant end) {
  SocketFinding f;
  const StateHistory h = until_end(whole, end);
  if (h.steps.empty()) return f;  // it appeared in the teardown
  const std::string name = held_socket_text(trace, h);
  for (TcpState s : x.states)
    if ((s == TcpState::TIME_WAIT || s == TcpState::FIN_WAIT2) && !h.timewait_unknown.empty())
      f.unknowns.push_back(fmt::format("{}: {}", name, h.timewait_unknown));
  const bool known = last_state_known(trace, h, end);
  f.holds = holds_of(trace, h, x, end);
  for (Hold& hold : f.holds) hold.socket = &whole;  // `h` is a copy that dies here
  for (const Hold& hold : f.holds) {
    if (!x.longer_than) {
      if (!hold.at_end) continue;
      if (known) f.problems.push_back(hold_text(trace, hold));
      else f.unknowns.push_back(fmt::format("{}: last sampled in {} just before the end, with segments after", name,
                                            state_name(hold.state)));
    } else if (hold.at_least > *x.longer_than) {
      f.problems.push_back(hold_text(trace, hold));
    } else if (hold.at_end) {
      f.unknowns.push_back(fmt::format("{}: still in {} at the end, held {} so far: the run ended before {}", name,
                                       state_name(hold.state), held_text(hold.at_least), held_text(*x.longer_than)));
    } else if (hold.at_most > *x.longer_than) {
      f.unknowns.push_back(fmt::format("{}: held {} between {} and {} ({})", name, state_name(hold.state),
                                       held_text(hold.at_least), held_text(hold.at_most), sampling_note));
    }
  }
  // A sampled socket whose last state is not known may have entered an expected state at the end.
  const TcpState last = h.steps.back().state;
  if (!x.longer_than && !known && !wanted(x, last))
    for (TcpState s : x.states)
      if (legal_transition(last, s)) {
        f.unknowns.push_back(fmt::format("{}: its last state is not known ({})", name, sampling_note));
        break;
      }
  return f;
}

}  // namespace

CheckResult check_socket_held(const Trace& trace, const SocketHeldExpect& asked) {
  // "rtt": the round trip this run measured (a [link] makes it long), with its timing bound:
  // nominal one round trip, late by up to the bound's slack (timer, another round trip, host, wire).
  SocketHeldExpect x = asked;
  std::string rtt_text;
  if (asked.longer_than_rtt) {
    const Duration rtt = measured_rtt(trace).value_or(Duration{});
    const TimingBound b = timing_bound(trace, rtt);
    x.longer_than = std::chrono::ceil<Millis>(rtt + b.late);
    rtt_text = fmt::format(" (one round trip: {} measured, {})", ms_text(rtt), b.text());
  }
  // A closer no FIN resolves judges both sides' sockets (the check is not checked then).
  const std::optional<Side> judged = x.side ? side_on(trace, *x.side) : std::nullopt;
  const std::string side = judged ? std::string(side_name(*judged)) : "client or server";
  const std::string states = states_text(x.states);
  const std::string bound = asked.longer_than_rtt ? " longer than one round trip"
                            : x.longer_than       ? fmt::format(" longer than {}", held_text(*x.longer_than))
                                                  : " at the end";
  CheckResult r = expectation(fmt::format("no {} socket held in {}{}", side, states, bound), x.line);
  r.expected = x.longer_than ? fmt::format("no {} socket held in {} longer than {}{}", side, states, held_text(*x.longer_than), rtt_text)
                             : fmt::format("no {} socket still in {} when the run ends", side, states);
  std::vector<const StateHistory*> sockets;
  const auto histories = on_wire_histories(trace);
  for (const StateHistory& h : histories)
    if ((!judged || h.side == *judged) && !h.steps.empty()) sockets.push_back(&h);
  if (sockets.empty()) {
    r.outcome = Outcome::not_checked;
    r.saw = fmt::format("no socket states observed for the {}", side);
    return r;
  }
  const Instant end = run_end(trace);
  std::vector<std::string> problems, unknowns;
  std::optional<Hold> longest;
  for (const StateHistory* h : sockets) {
    SocketFinding f = judge_socket(trace, *h, x, end);
    problems.insert(problems.end(), f.problems.begin(), f.problems.end());
    unknowns.insert(unknowns.end(), f.unknowns.begin(), f.unknowns.end());
    for (const Hold& hold : f.holds)
      if (!longest || hold.at_least > longest->at_least) longest = hold;
  }
  // Sampling misses a hold shorter than its blind spot: below it, "never seen" proves nothing.
  const bool blind = std::any_of(x.states.begin(), x.states.end(), [&](TcpState s) { return sampled_state(trace, s); });
  const Duration unseen = blind ? longest_unseen(trace, judged, end) : Duration{};
  if (x.longer_than && blind && *x.longer_than < unseen)
    unknowns.push_back(fmt::format("a hold shorter than {} between two samples can be missed ({}), and {} is shorter",
                                   ms_text(unseen), sampling_note, held_text(*x.longer_than)));
  r.outcome = !problems.empty() ? Outcome::fail : !unknowns.empty() ? Outcome::not_checked : Outcome::pass;
  if (!problems.empty()) {
    r.saw = join(problems);
  } else {
    r.saw = fmt::format("{} observed; ", counted(sockets.size(), judged ? side + " socket" : "socket"));
    r.saw += longest ? fmt::format("the longest in {}: {}", states, hold_text(trace, *longest))
                     : fmt::format("none entered {}", states);
    if (!unknowns.empty()) r.saw += ": not checked: " + join(unknowns);
  }
  if (asked.longer_than_rtt) r.saw += rtt_text;  // the bound it was judged by, pass or fail
  return r;
}

}  // namespace lastack
