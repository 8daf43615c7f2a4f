// Policy expectations about the endpoints: retransmissions, states, resets, what the apps saw,
// TIME_WAIT. Each check says what it saw, with the numbers. (Wire counts: expectations_wire.cpp.)
#include "harness/core/oracle/expect/expectations.hpp"
#include "harness/core/trace/byte_pattern.hpp"
#include "harness/core/trace/socket_samples.hpp"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "harness/core/oracle/close_order.hpp"
#include "harness/core/decide/decision.hpp"
#include "harness/core/base/duration_text.hpp"
#include "harness/core/base/errno_name.hpp"
#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/trace/stale_reach.hpp"
#include "harness/core/trace/state_history.hpp"
#include "harness/core/oracle/window.hpp"

namespace lastack {

using namespace detail;

namespace {

const WireEvent* first_original(const Trace& trace, const Selector& sel) {
  for (const WireEvent* w : wire_events(trace))
    if (!w->info.roles.has(Role::retransmission) && !w->injected && selector_matches(sel, w->info))
      return w;
  return nullptr;
}

// When the sender's retransmission timer for `original` last started before `until`: at the
// original, or later when an ACK of new data reached the sender (Linux re-arms the RTO then).
Instant timer_start(const Trace& trace, const WireEvent& original, Instant until) {
  Instant start = original.at;
  std::optional<SeqNum> highest;
  for (const WireEvent* w : wire_events(trace)) {
    if (w->info.connection != original.info.connection || w->info.from == original.info.from ||
        !w->segment.flags.ack() || !delivered(*w) || w->injected)
      continue;
    const bool advances = !highest || w->segment.ack.after(*highest);
    if (advances) highest = w->segment.ack;
    if (advances && w->at > original.at && arrival_time(*w) < until) start = arrival_time(*w);
  }
  return start;
}

// The timing problems of a retransmission chain against the expectation; empty when none.
std::vector<std::string> timing_problems(const std::vector<Duration>& gaps, std::optional<Duration> want_gap,
                                         const TimingBound& b) {
  std::vector<std::string> problems;
  if (want_gap && !gaps.empty()) {
    if (!b.admits(gaps.front(), *want_gap))
      problems.push_back(fmt::format("first gap {} vs {}, outside the {}", ms_text(gaps.front()),
                                     ms_text(*want_gap), b.text()));
  }
  return problems;
}

// The backoff problems of a retransmission chain; empty when none.
std::vector<std::string> backoff_problems(const Trace& trace, const RetransmittedExpect& x,
                                          const std::vector<const WireEvent*>& again,
                                          const std::vector<Duration>& gaps, std::size_t probes) {
  std::vector<std::string> problems;
  if (!x.backoff) return problems;
  // A tail-loss probe first re-arms the timer without backing off: doubling starts after it.
  if (gaps.size() < 2 + probes)
    problems.push_back(fmt::format("backoff needs at least two timer retransmissions{}",
                                   probes ? " after the tail-loss probe" : ""));
  // The claim is doubling, literally: where the kernel keeps or caps its RTO (tcp_rto_max_ms, linear
  // timeouts) it does not hold, whatever the built-in backoff invariant accepts.
  for (std::size_t i = 1 + probes; i < gaps.size(); ++i) {
    const TimingBound b = with_timer_lateness(doubling_bound(trace, gaps[i - 1], 2), timer_lateness(trace, *again[i]),
                                              timer_lateness(trace, *again[i - 1]), 2);
    if (!b.admits(gaps[i], 2 * gaps[i - 1]))
      problems.push_back(fmt::format("gap {} is {}, not {} (double gap {}; {})", i + 1, ms_text(gaps[i]),
                                     ms_text(2 * gaps[i - 1]), i, b.text()));
  }
  return problems;
}

}  // namespace

namespace {

// The RTO the first retransmission's timer ran with, as the sender's samples show it: the latest
// sample between when the kernel says it armed the timer and the retransmission (an RTO change
// re-arms the timer, so the last sample shows the RTO of the timer that fired; the arming time is
// known to a jiffy only, so a sample just after it may still predate the last re-arm), else the
// latest sample before the original. Never the kernel's own icsk_rto alone: the arming time is
// derived from it, and the check would judge itself.
std::optional<std::chrono::microseconds> armed_rto(const Trace& trace, const WireEvent* original,
                                                   const std::vector<const WireEvent*>& again) {
  if (!original) return std::nullopt;
  const std::optional<Instant> until =
      again.empty() ? std::nullopt : std::optional<Instant>(again.front()->at);
  if (!again.empty())
    if (const auto armed = timer_armed_at(trace, *again.front()))
      if (const auto shown = rto_sampled_between(trace, *original, *armed, until, SamplePick::latest_unfired)) return shown;
  return rto_for(trace, *original, until);
}

// The first gap `after` asks for (the sender's RTO: `rto` as sampled, else TCP_RTO_MIN), and how
// the expectation says it; nullopt: any gap.
std::optional<Duration> wanted_gap(const std::optional<RetransmitGap>& after,
                                   std::optional<std::chrono::microseconds> rto, std::string& expected) {
  if (!after) return std::nullopt;
  if (const auto* fixed = std::get_if<Millis>(&*after)) {
    expected += fmt::format(", the first {} after the original", ms_text(*fixed));
    return Duration(*fixed);
  }
  const Duration gap = rto ? Duration(*rto) : Duration(tcp_rto_min);
  expected += rto ? fmt::format(", the first about 1 RTO ({}) after the original", ms_text(gap))
                  : ", the first about TCP_RTO_MIN (200 ms, no RTO sampled) after the original";
  return gap;
}

}  // namespace

CheckResult check_retransmitted(const Trace& trace, const RetransmittedExpect& x) {
  const std::string what = selector_text(trace, x.segment);
  const bool never = x.count == 0u;
  CheckResult r = expectation(never ? "no retransmission of " + what : "retransmitted " + what,
                              x.line);
  r.expected =
      never ? fmt::format("the first {} never retransmitted", what)
      : x.count ? fmt::format("the first {} retransmitted exactly {}", what, times_text(*x.count))
                : fmt::format("the first {} retransmitted at least once", what);
  const WireEvent* original = first_original(trace, x.segment);
  const auto again =
      original ? retransmissions_of(trace, *original) : std::vector<const WireEvent*>{};
  const auto rto = armed_rto(trace, original, again);
  const std::optional<Duration> want_gap = wanted_gap(x.after, rto, r.expected);
  if (x.backoff) r.expected += ", each later gap about double the one before";
  if (const auto why = unnamed_retransmissions(trace, x.segment)) {
    r.outcome = Outcome::not_checked;
    r.saw = *why;
    return r;
  }
  if (!original) {
    r.saw = fmt::format("no {} on the wire", what);
    return r;
  }
  std::vector<Duration> gaps;
  Instant previous = original->at;
  for (const WireEvent* w : again) {
    gaps.push_back(w->at - previous);
    previous = w->at;
  }
  const ProbeCount probes = leading_probe_count(trace, again, gaps, rto);
  // The count is in the saw text already; problems lists only what it does not show.
  const bool count_ok = x.count ? again.size() == *x.count : !again.empty();
  // The first gap is judged from when the timer last started (an ACK of new data re-arms it).
  std::vector<Duration> timed = gaps;
  Instant started = again.empty() ? original->at : timer_start(trace, *original, again.front()->at);
  // The kernel's own account of when it armed the timer wins over the wire's: a busy host
  // processes the re-arming ACK late, or the original reaches the wire late.
  const std::optional<Instant> armed = again.empty() ? std::nullopt : timer_armed_at(trace, *again.front());
  const Instant wire_started = started;
  if (armed) started = *armed;
  if (!timed.empty()) timed.front() = again.front()->at - started;
  // The kernel's own count of how late it ran the first retransmission's timer widens the bound.
  const TimingBound first_bound =
      want_gap ? with_timer_lateness(timing_bound(trace, *want_gap), again.empty() ? Duration{} : timer_lateness(trace, *again.front()))
               : TimingBound{};
  auto problems = timing_problems(timed, want_gap, first_bound);
  for (auto& p : backoff_problems(trace, x, again, gaps, probes.count)) problems.push_back(std::move(p));
  r.outcome = outcome_of(count_ok && problems.empty());
  if (again.empty()) {
    r.saw = fmt::format("{} sent at {}, never retransmitted", segment_text(*original),
                        ms_text(original->at));
  } else {
    const bool same_seq = std::all_of(again.begin(), again.end(), [&](const WireEvent* w) {
      return w->segment.seq == original->segment.seq;
    });
    r.saw = fmt::format("retransmitted {}, {} ({}), gap{} {} (first: {}{}{})", times_text(again.size()),
                        same_seq ? fmt::format("same seq {}", original->info.rel_seq)
                                 : fmt::format("covering seq {}", original->info.rel_seq),
                        original->segment.flags.tcpdump(), gaps.size() == 1 ? "" : "s",
                        ms_list_text(gaps), probes.count ? "tail-loss probe" : "RTO retransmission",
                        probes.inferred ? ", inferred from the gaps" : ", the kernel's cause",
                        rto ? fmt::format("; RTO {}", ms_text(*rto)) : "; no RTO sampled");
  }
  if (x.after && std::holds_alternative<SenderRto>(*x.after) && !rto) r.saw += "; assumed TCP_RTO_MIN 200 ms";
  if (want_gap && !gaps.empty() && wire_started != original->at)
    r.saw += fmt::format("; the timer restarted at {} (an ACK of new data reached the sender)", ms_text(wire_started));
  if (want_gap && !gaps.empty() && started != wire_started)
    r.saw += fmt::format("; the kernel armed it {} {}, at {}, by its own count",
                         ms_text(started > wire_started ? started - wire_started : wire_started - started),
                         started > wire_started ? "later" : "earlier", ms_text(started));
  if (want_gap && !gaps.empty() && problems.empty())
    r.saw += fmt::format("; first gap {} vs {}, {}", ms_text(timed.front()), ms_text(*want_gap),
                         first_bound.text());
  if (!problems.empty()) r.saw += ": " + join(problems);
  // More retransmissions could still come: an exact count or "never" is open, so is a count short.
  const bool short_of = x.count ? again.size() < *x.count : again.empty();
  judge_window(r, trace, {x.count.has_value(), short_of && !count_ok && problems.empty()});
  return r;
}

namespace {

std::string paths_text(const std::vector<StateHistory>& sockets) {
  if (sockets.size() == 1) return steps_text(sockets.front());
  std::vector<std::string> parts;
  for (const auto& h : sockets) parts.push_back(fmt::format("port {}: {}", h.local_port, steps_text(h)));
  return join(parts);
}

// The moment a state check judges the sockets at: the end of what was observed.
Instant observed_end(const Trace& trace) {
  Instant end = trace.observed_until.value_or(Instant{});
  for (const TraceEvent& ev : trace.events) end = std::max(end, event_time(ev));
  return end;
}

}  // namespace

CheckResult check_state(const Trace& trace, const StateExpect& x) {
  const std::string side = side_label(trace, x.side);
  std::vector<std::string> wants;
  if (x.reaches) wants.push_back(fmt::format("reaches {}", state_name(*x.reaches)));
  if (x.ends_in) wants.push_back(fmt::format("ends in {}", state_name(*x.ends_in)));
  if (x.never) wants.push_back(fmt::format("never enters {}", state_name(*x.never)));
  CheckResult r = expectation(fmt::format("state {} {}", side, join(wants, ", ")), x.line);
  r.expected = fmt::format("the {}'s socket {}", side, join(wants, " and "));
  const std::optional<Side> judged = side_on(trace, x.side);
  if (!judged) return not_resolved(r);

  const auto sockets = side_histories(trace, *judged);
  if (sockets.empty()) {
    r.outcome = Outcome::not_checked;
    r.saw = fmt::format("no socket states observed for the {}", side);
    return r;
  }
  std::vector<std::string> problems, unknowns;
  if (x.reaches) {
    const StateEvidence e = state_evidence(trace, *judged, sockets, *x.reaches);
    if (e.evidence == Evidence::not_seen) problems.push_back(fmt::format("never reached {}", state_name(*x.reaches)));
    if (e.evidence == Evidence::unknown) unknowns.push_back(e.why);
  }
  if (x.ends_in) {
    const Instant end = observed_end(trace);
    for (const auto& h : sockets) {
      if (h.request) continue;  // a request socket's life ends when its child's begins
      if (!last_state_known(trace, h, end))
        unknowns.push_back(fmt::format("the last state of {} is not known ({})", history_text(h),
                                       trace.kernel_source == KernelSource::sampled ? std::string(sampling_note)
                                                                                    : "no sample showed its timewait socket at the end"));
      else if (h.steps.back().state != *x.ends_in)
        problems.push_back(fmt::format("ended in {}", state_name(h.steps.back().state)));
    }
  }
  if (x.never) {
    const StateEvidence e = state_evidence(trace, *judged, sockets, *x.never);
    if (e.evidence == Evidence::seen) problems.push_back(fmt::format("entered {}", state_name(*x.never)));
    if (e.evidence == Evidence::unknown) unknowns.push_back(e.why);
  }
  r.outcome = !problems.empty() ? Outcome::fail : !unknowns.empty() ? Outcome::not_checked : Outcome::pass;
  r.saw = paths_text(sockets);
  if (!problems.empty()) r.saw += " (" + join(problems) + ")";
  else if (!unknowns.empty()) r.saw += ": " + join(unknowns);
  // A state may still come (reaches), or come after all (never), or follow the last (ends-in).
  judge_window(r, trace, {x.never || x.ends_in, x.reaches || x.ends_in});
  return r;
}

CheckResult check_reset(const Trace& trace, const ResetExpect& x) {
  const std::string who = x.from ? side_label(trace, *x.from) : "either side";
  const std::string whose = x.injected ? "" : "'s kernel";
  const bool none = x.count == 0u;
  CheckResult r = expectation(none ? "no RST from " + who : "reset from " + who, x.line);
  const std::string also = x.injected ? ", lastack's injected ones included" : "";
  r.expected = none      ? fmt::format("no RST from {}{}{}", who, whose, also)
               : x.count ? fmt::format("exactly {} from {}{}{}", counted(*x.count, "RST"), who, whose, also)
                         : fmt::format("at least one RST from {}{}{}", who, whose, also);
  if (wire_events(trace).empty()) {
    r.outcome = Outcome::not_checked;
    r.saw = "nothing on the wire";
    return r;
  }
  std::vector<std::string> seen;
  std::size_t ignored = 0;
  for (const WireEvent* w : wire_events(trace)) {
    if (!w->segment.flags.rst() || (x.from && resolve_side(*x.from, w->info.first_closer) != w->info.from)) continue;
    if (!is_reset(*w, x.injected)) {
      ++ignored;
      continue;
    }
    seen.push_back(fmt::format("{} at {}{}", segment_text(*w), ms_text(w->at), w->injected ? " (injected)" : ""));
  }
  r.outcome = outcome_of(x.count ? seen.size() == *x.count : !seen.empty());
  r.saw = seen.empty() ? fmt::format("no RST from {}{} on the wire", who, whose)
                       : fmt::format("{}: {}", counted(seen.size(), "RST"), join(seen));
  if (ignored) r.saw += fmt::format("; {} injected by lastack, not counted", counted(ignored, "RST"));
  judge_window(r, trace, {x.count.has_value(), x.count ? seen.size() < *x.count : seen.empty()});
  return r;
}

namespace {

// True when the step ended as `sees` says: "ok" and "eof" by result, else by errno name.
bool step_sees(const AppEvent& a, std::string_view sees) {
  if (same_text_ignoring_case(sees, "ok")) return a.result == StepResult::ok;
  if (same_text_ignoring_case(sees, "eof")) return a.result == StepResult::eof;
  return a.result == StepResult::error && a.error != 0 && same_text_ignoring_case(errno_name(a.error), sees);
}

// True when `a` is an agent step of one of `kinds`.
bool step_of_kind(const AppEvent& a, std::initializer_list<StepKind> kinds) {
  const AgentStepFacts* s = a.agent_step();
  return s && std::find(kinds.begin(), kinds.end(), s->kind) != kinds.end();
}

bool is_recv(const AppEvent& a) { return step_of_kind(a, {StepKind::recv, StepKind::recv_until_eof}); }

bool is_exchange(const AppEvent& a) { return step_of_kind(a, {StepKind::exchange, StepKind::answer}); }

// The connection a step's foreign bytes came from. A policy with check = "app" runs one copy of
// its scenario (the parser refuses one under connections = N), so the stream tag is the index.
std::optional<ConnectionIndex> stale_connection(const AgentStepFacts& s) {
  return s.corrupted_from ? pattern_connection(*s.corrupted_from, 1) : std::nullopt;
}

// "server recv-until-eof: bytes 0..16384 of its stream are the client's bytes 2345678.. of connection 1"
std::string stale_text(const AppEvent& a, const AgentStepFacts& s) {
  return fmt::format("{} {}: bytes {}..{} of its stream are the {}'s bytes {}.. of connection {}",
                     side_name(a.side), a.step, s.corrupted->begin, s.corrupted->end,
                     side_name(s.corrupted_from->side), s.corrupted_from->offset,
                     number_of(*stale_connection(s)).value);
}

}  // namespace

CheckResult check_app(const Trace& trace, const AppExpect& x) {
  if (judges_commands(trace, x)) return check_app_commands(trace, x);  // expectations_app.cpp
  const std::string side = side_label(trace, x.side);
  const std::optional<Side> judged = side_on(trace, x.side);
  std::vector<std::string> wants, expected;
  if (x.sees) wants.push_back(fmt::format("sees {}", *x.sees));
  if (x.received) wants.push_back(fmt::format("received {} bytes", *x.received));
  if (x.sent) wants.push_back(fmt::format("sent {} bytes", *x.sent));
  if (x.stale_from) wants.push_back(fmt::format("reads bytes of connection {}", x.stale_from->value));
  CheckResult r = expectation(fmt::format("app {} {}", side, join(wants, ", ")), x.line);
  const bool every_ok = x.sees && same_text_ignoring_case(*x.sees, "ok");
  if (x.sees) expected.push_back(every_ok ? "every step ok (or eof)" : fmt::format("a step ending in {}", *x.sees));
  if (x.received) expected.push_back(fmt::format("{} bytes read", *x.received));
  if (x.sent) expected.push_back(fmt::format("{} bytes written", *x.sent));
  if (x.stale_from)
    expected.push_back(fmt::format("some bytes read are the {}'s bytes of connection {}",
                                   judged ? side_name(peer_of(*judged)) : "peer", x.stale_from->value));
  r.expected = fmt::format("the {} app: {}", side, join(expected, ", "));
  if (!judged) return not_resolved(r);

  std::vector<std::string> steps;
  std::uint64_t received = 0, sent = 0;
  bool all_ok = true, saw_outcome = false;
  std::optional<std::string> stale;  // the first range read from connection stale_from
  for (const TraceEvent& ev : trace.events) {
    const auto* a = std::get_if<AppEvent>(&ev);
    if (!a || a->side != *judged) continue;
    const AgentStepFacts* s = a->agent_step();
    if (x.stale_from && !stale && s && s->corrupted && s->corrupted_from &&
        s->corrupted_from->side == peer_of(*judged) && number_of(*stale_connection(*s)) == *x.stale_from)
      stale = stale_text(*a, *s);
    steps.push_back(a->bytes > 0 ? fmt::format("{}: {} ({} bytes)", a->step, a->outcome, a->bytes)
                                 : fmt::format("{}: {}", a->step, a->outcome));
    if (is_recv(*a) || is_exchange(*a)) received += a->bytes;  // an exchange moves N each way
    if (step_of_kind(*a, {StepKind::send}) || is_exchange(*a)) sent += a->bytes;
    all_ok = all_ok && (a->result == StepResult::ok || a->result == StepResult::eof);
    if (x.sees && step_sees(*a, *x.sees)) saw_outcome = true;
  }
  std::vector<std::string> problems;
  if (steps.empty()) problems.push_back(fmt::format("the {} agent reported no step", side));
  if (x.sees && !(every_ok ? all_ok && !steps.empty() : saw_outcome)) problems.push_back(fmt::format("no {}", *x.sees));
  if (x.received && received != *x.received)
    problems.push_back(fmt::format("read {} bytes, not {}", received, *x.received));
  if (x.sent && sent != *x.sent) problems.push_back(fmt::format("wrote {} bytes, not {}", sent, *x.sent));
  if (x.stale_from && !stale)
    problems.push_back(fmt::format("no bytes of connection {} in what it read", x.stale_from->value));
  r.outcome = outcome_of(problems.empty());
  r.saw = steps.empty() ? fmt::format("no {} app steps", side)
                        : fmt::format("{}; read {} bytes, wrote {} bytes", join(steps, ", "), received, sent);
  if (stale) r.saw = *stale + "; " + r.saw;
  // No old bytes, and none could have come: the experiment's precondition failed, not the
  // claim. Only when that is the one problem; anything else still fails.
  if (x.stale_from && !stale && problems.size() == 1)
    if (auto why = stale_out_of_reach(trace, peer_of(*judged), index_of(*x.stale_from))) {
      r.outcome = Outcome::not_checked;
      problems.back() += ": " + *why;
    }
  if (!problems.empty()) r.saw += " (" + join(problems) + ")";
  return r;
}

}  // namespace lastack
