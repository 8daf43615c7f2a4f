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
#include "harness/core/oracle/invariants_close.hpp"
#include "harness/core/decide/decision.hpp"
#include "harness/core/base/duration_text.hpp"
#include "harness/core/base/errno_name.hpp"
#include "harness/core/oracle/expect/expectations_reset_received.hpp"
#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/trace/stale_reach.hpp"
#include "harness/core/trace/state_history.hpp"
#include "harness/core/oracle/window.hpp"
#include "harness/core/oracle/words/finding_words.hpp"

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

// The backoff problems of a retransmission chain: each later timer gap not about double the one
// before (gap numbers 1-based); `too_short` when fewer than two timer retransmissions.
std::vector<GapProblem> backoff_problems(const Trace& trace, const std::vector<const WireEvent*>& again,
                                         const std::vector<Duration>& gaps, std::size_t probes, bool& too_short) {
  // A tail-loss probe first re-arms the timer without backing off: doubling starts after it.
  too_short = gaps.size() < 2 + probes;
  std::vector<GapProblem> problems;
  // The claim is doubling, literally: where the kernel keeps or caps its RTO (tcp_rto_max_ms, linear
  // timeouts) it does not hold, whatever the built-in backoff invariant accepts.
  for (std::size_t i = 1 + probes; i < gaps.size(); ++i) {
    const TimingBound b = with_timer_lateness(doubling_bound(trace, gaps[i - 1], 2), timer_lateness(trace, *again[i]),
                                              timer_lateness(trace, *again[i - 1]), 2);
    if (!b.admits(gaps[i], 2 * gaps[i - 1])) problems.push_back({i + 1, gaps[i], 2 * gaps[i - 1], b});
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

// The first gap `after` asks for (the sender's RTO: `rto` as sampled, else TCP_RTO_MIN), and
// where it came from; nullopt: any gap.
std::optional<GapClaim> wanted_gap(const std::optional<RetransmitGap>& after,
                                   std::optional<std::chrono::microseconds> rto) {
  if (!after) return std::nullopt;
  if (const auto* fixed = std::get_if<Millis>(&*after)) return GapClaim{Duration(*fixed), GapSource::policy};
  if (rto) return GapClaim{Duration(*rto), GapSource::sender_rto};
  return GapClaim{Duration(tcp_rto_min), GapSource::rto_min};
}

std::vector<WireEvent> copies(const std::vector<const WireEvent*>& events) {
  std::vector<WireEvent> out;
  out.reserve(events.size());
  for (const WireEvent* w : events) out.push_back(*w);
  return out;
}

// When the first retransmission's timer started, as the wire shows it and as the kernel says;
// the first gap measured from then (an ACK of new data re-arms the timer), judged against `want`.
void judge_first_gap(const Trace& trace, const WireEvent& original, const std::vector<const WireEvent*>& again,
                     const GapClaim& want, Finding& f, RetransmissionsSeen& seen) {
  const Instant wire_started = timer_start(trace, original, again.front()->at);
  // The kernel's own account of when it armed the timer wins over the wire's: a busy host
  // processes the re-arming ACK late, or the original reaches the wire late.
  const std::optional<Instant> armed = timer_armed_at(trace, *again.front());
  const Instant started = armed.value_or(wire_started);
  if (wire_started != original.at) seen.timer_restarted = wire_started;
  if (started != wire_started) seen.kernel_armed = started;
  seen.first_gap = again.front()->at - started;
  // The kernel's own count of how late it ran the first retransmission's timer widens the bound.
  // The round trip is allowed only while the start is the wire's guess (the re-arming ACK's
  // arrival); from the kernel's own arming time it would let a wrong RTO pass under a slow link.
  f.bound = with_timer_lateness(timing_bound(trace, want.nominal, !armed), timer_lateness(trace, *again.front()));
  if (!f.bound->admits(*seen.first_gap, want.nominal))
    seen.problems.push_back({1, *seen.first_gap, want.nominal, *f.bound});
}

// The original and its retransmissions, judged against the claim's timing; `f.bound` gets the
// first gap's bound.
RetransmissionsSeen retransmissions_seen(const Trace& trace, const RetransmittedExpect& x, const WireEvent& original,
                                         const std::vector<const WireEvent*>& again,
                                         std::optional<std::chrono::microseconds> rto, Finding& f) {
  RetransmissionsSeen seen{original, copies(again), {}, 0, true, rto, {}, {}, {}, {}, false};
  Instant previous = original.at;
  for (const WireEvent* w : again) {
    seen.gaps.push_back(w->at - previous);
    previous = w->at;
  }
  const ProbeCount probes = leading_probe_count(trace, again, seen.gaps, rto);
  seen.probes = probes.count;
  seen.probes_inferred = probes.inferred;
  const auto& want = std::get<RetransmitClaim>(f.expected).first_gap;
  if (want && !again.empty()) judge_first_gap(trace, original, again, *want, f, seen);
  if (x.backoff)
    for (GapProblem& p : backoff_problems(trace, again, seen.gaps, seen.probes, seen.backoff_too_short))
      seen.problems.push_back(std::move(p));
  return seen;
}

}  // namespace

CheckResult check_retransmitted(const Trace& trace, const RetransmittedExpect& x) {
  const Selector& sel = x.segment;
  Finding f{CheckId{CheckKind::retransmitted, selector_subject(trace, sel), {}},
            RetransmitClaim{x.count, {}, x.backoff}, NothingSeen{}, {}, {}, {}};
  const WireEvent* original = first_original(trace, sel);
  const auto again = original ? retransmissions_of(trace, *original) : std::vector<const WireEvent*>{};
  const auto rto = armed_rto(trace, original, again);
  std::get<RetransmitClaim>(f.expected).first_gap = wanted_gap(x.after, rto);
  if (const auto why = unnamed_retransmissions(trace, sel)) {
    f.why_not = NotChecked{Unjudged::no_kernel_word, *why, {}};
    return judged(std::move(f), Outcome::not_checked, x.line);
  }
  if (!original) return judged(std::move(f), Outcome::fail, x.line);
  const RetransmissionsSeen seen = retransmissions_seen(trace, x, *original, again, rto, f);
  const bool count_ok = x.count ? again.size() == *x.count : !again.empty();
  const bool timing_ok = seen.problems.empty() && !(x.backoff && seen.backoff_too_short);
  f.saw = seen;
  CheckResult r = judged(std::move(f), outcome_of(count_ok && timing_ok), x.line);
  // More retransmissions could still come: an exact count or "never" is open, so is a count short.
  const bool short_of = x.count ? again.size() < *x.count : again.empty();
  judge_window(r, trace, {x.count.has_value(), short_of && !count_ok && timing_ok});
  return r;
}

namespace {

// A socket's states as the finding keeps them.
SocketPath path_of(const StateHistory& h) {
  return {h.local_port, path_steps(h)};
}

// The moment a state check judges the sockets at: the end of what was observed.
Instant observed_end(const Trace& trace) {
  Instant end = trace.observed_until.value_or(Instant{});
  for (const TraceEvent& ev : trace.events) end = std::max(end, event_time(ev));
  return end;
}

}  // namespace

namespace {

// The sockets' paths against the claim: what broke it, and what could not be known.
void judge_states(const Trace& trace, const StateExpect& x, Side side, const std::vector<StateHistory>& sockets,
                  StatesSeen& seen) {
  if (x.reaches) {
    const StateEvidence e = state_evidence(trace, side, sockets, *x.reaches);
    if (e.evidence == Evidence::not_seen) seen.problems.push_back({StateMiss::never_reached, *x.reaches});
    if (e.evidence == Evidence::unknown) seen.unknowns.push_back(e.why);
  }
  if (x.ends_in) {
    const Instant end = observed_end(trace);
    for (const auto& h : sockets) {
      if (h.request) continue;  // a request socket's life ends when its child's begins
      if (!last_state_known(trace, h, end))
        seen.unknowns.push_back(fmt::format("the last state of {} is not known ({})", history_text(h),
                                            trace.kernel_source == KernelSource::sampled
                                                ? std::string(sampling_note)
                                                : "no sample showed its timewait socket at the end"));
      else if (h.steps.back().state != *x.ends_in)
        seen.problems.push_back({StateMiss::ended_in, h.steps.back().state});
    }
  }
  if (x.never) {
    const StateEvidence e = state_evidence(trace, side, sockets, *x.never);
    if (e.evidence == Evidence::seen) seen.problems.push_back({StateMiss::entered, *x.never});
    if (e.evidence == Evidence::unknown) seen.unknowns.push_back(e.why);
  }
}

}  // namespace

CheckResult check_state(const Trace& trace, const StateExpect& x) {
  Finding f{CheckId{CheckKind::state, side_subject(trace, x.side), {}}, StateClaim{x.reaches, x.ends_in, x.never},
            NothingSeen{}, {}, {}, {}};
  const std::optional<Side> side = f.check.subject.resolved;
  if (!side) {  // a closer no FIN names: check_expectation says why
    f.why_not = NotChecked{Unjudged::closer_unknown, {}, {}};
    return judged(std::move(f), Outcome::not_checked, x.line);
  }
  const auto sockets = side_histories(trace, *side);
  if (sockets.empty()) {
    f.why_not = NotChecked{Unjudged::no_socket_states, {}, {}};
    return judged(std::move(f), Outcome::not_checked, x.line);
  }
  StatesSeen seen;
  for (const StateHistory& h : sockets) seen.sockets.push_back(path_of(h));
  judge_states(trace, x, *side, sockets, seen);
  const Outcome outcome = !seen.problems.empty()   ? Outcome::fail
                          : !seen.unknowns.empty() ? Outcome::not_checked
                                                   : Outcome::pass;
  f.saw = std::move(seen);
  CheckResult r = judged(std::move(f), outcome, x.line);
  // A state may still come (reaches), or come after all (never), or follow the last (ends-in).
  judge_window(r, trace, {x.never || x.ends_in, x.reaches || x.ends_in});
  return r;
}

CheckResult check_reset(const Trace& trace, const ResetExpect& x) {
  if (x.received_by) return check_reset_received(trace, x);
  CountClaim claim;
  claim.injected_too = x.injected;
  if (x.count) claim.bound.count = *x.count;
  else claim.bound.min = 1;
  Finding f{CheckId{CheckKind::reset, side_subject(trace, x.from), {}}, claim, NothingSeen{}, {}, {}, {}};
  if (wire_events(trace).empty()) {
    f.why_not = NotChecked{Unjudged::nothing_on_wire, {}, {}};
    return judged(std::move(f), Outcome::not_checked, x.line);
  }
  SegmentsSeen seen;
  for (const WireEvent* w : wire_events(trace)) {
    if (!w->segment.flags.rst() || (x.from && resolve_side(*x.from, w->info.first_closer) != w->info.from)) continue;
    if (!is_reset(*w, x.injected)) {
      ++seen.injected_ignored;
      continue;
    }
    seen.matched.push_back(*w);
  }
  const std::size_t n = seen.matched.size();
  f.saw = std::move(seen);
  CheckResult r = judged(std::move(f), outcome_of(x.count ? n == *x.count : n > 0), x.line);
  judge_window(r, trace, {x.count.has_value(), x.count ? n < *x.count : n == 0});
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

}  // namespace

CheckResult check_app(const Trace& trace, const AppExpect& x) {
  if (judges_commands(trace, x)) return check_app_commands(trace, x);  // expectations_app.cpp
  Finding f{CheckId{CheckKind::app, side_subject(trace, x.side), {}}, AppClaim{x.sees, x.received, x.sent, x.stale_from},
            NothingSeen{}, {}, {}, {}};
  const std::optional<Side> side = f.check.subject.resolved;
  if (!side) {  // a closer no FIN names: check_expectation says why
    f.why_not = NotChecked{Unjudged::closer_unknown, {}, {}};
    return judged(std::move(f), Outcome::not_checked, x.line);
  }
  AppSeen seen;
  bool all_ok = true, saw_outcome = false;
  for (const TraceEvent& ev : trace.events) {
    const auto* a = std::get_if<AppEvent>(&ev);
    if (!a || a->side != *side) continue;
    const AgentStepFacts* s = a->agent_step();
    // A policy with check = "app" runs one copy of its scenario (the parser refuses one under
    // connections = N), so the bytes' stream tag is their connection's index.
    const auto from = s && s->corrupted_from ? pattern_connection(*s->corrupted_from, 1) : std::nullopt;
    if (x.stale_from && !seen.stale && s->corrupted && from && s->corrupted_from->side == peer_of(*side) &&
        number_of(*from) == *x.stale_from)
      seen.stale = StaleRead{a->side, a->step, *s->corrupted, s->corrupted_from->side, number_of(*from),
                             s->corrupted_from->offset};
    seen.steps.push_back({a->step, a->outcome, a->bytes});
    if (is_recv(*a) || is_exchange(*a)) seen.received += a->bytes;  // an exchange moves N each way
    if (step_of_kind(*a, {StepKind::send}) || is_exchange(*a)) seen.sent += a->bytes;
    all_ok = all_ok && (a->result == StepResult::ok || a->result == StepResult::eof);
    if (x.sees && step_sees(*a, *x.sees)) saw_outcome = true;
  }
  const bool every_ok = x.sees && same_text_ignoring_case(*x.sees, "ok");
  if (seen.steps.empty()) seen.problems.push_back(AppMiss::no_steps);
  if (x.sees && !(every_ok ? all_ok && !seen.steps.empty() : saw_outcome)) seen.problems.push_back(AppMiss::not_seen);
  if (x.received && seen.received != *x.received) seen.problems.push_back(AppMiss::received);
  if (x.sent && seen.sent != *x.sent) seen.problems.push_back(AppMiss::sent);
  if (x.stale_from && !seen.stale) seen.problems.push_back(AppMiss::no_stale);
  Outcome outcome = outcome_of(seen.problems.empty());
  // No old bytes, and none could have come: the experiment's precondition failed, not the
  // claim. Only when that is the one problem; anything else still fails.
  if (x.stale_from && !seen.stale && seen.problems.size() == 1)
    if (auto why = stale_out_of_reach(trace, peer_of(*side), index_of(*x.stale_from))) {
      outcome = Outcome::not_checked;
      f.why_not = NotChecked{Unjudged::out_of_reach, *why, {}};
    }
  f.saw = std::move(seen);
  return judged(std::move(f), outcome, x.line);
}

}  // namespace lastack
