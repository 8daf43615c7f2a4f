// The `timewait` expectation: who entered TIME_WAIT (the kernel's word: a traced hand-over, a
// sample, or the overflow counter), the timer when first seen, and whether its expiry moved.
#include "harness/core/oracle/expect/expectations_timewait.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "harness/core/oracle/close_order.hpp"
#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/oracle/expect/expectations.hpp"
#include "harness/core/oracle/window.hpp"
#include "harness/core/oracle/words/finding_words.hpp"
#include "harness/core/trace/state_history.hpp"
#include "harness/core/trace/timewait_timer.hpp"

namespace lastack {

using namespace detail;

namespace {

// Segments the peer delivered to `t`'s socket while a restart would not have shown.
std::size_t arrivals_while_blind(const Trace& trace, const TimewaitTimer& t) {
  if (!t.blind_until || !t.socket->connection) return 0;
  const Instant from = *t.blind_until - t.blind;
  std::size_t n = 0;
  for (const WireEvent* w : wire_events(trace))
    if (w->info.connection == *t.socket->connection && w->info.from != t.socket->side && delivered(*w) &&
        arrival_time(*w) > from && arrival_time(*w) <= *t.blind_until)
      ++n;
  // Entered from a sample, the segment that made it TIME_WAIT arrives in that stretch too.
  return t.entered ? n : (n > 0 ? n - 1 : 0);
}

// One side's TIME_WAIT as the trace shows it: entered or not, its first timer, its restarts and
// the stretches a restart could have hidden in.
SideTimeWaitSeen side_timewait(const Trace& trace, Side side) {
  SideTimeWaitSeen out;
  out.side = side;
  std::vector<StateHistory> sockets = side_histories(trace, side);
  std::erase_if(sockets, [](const StateHistory& h) { return h.request; });
  const StateEvidence e = state_evidence(trace, side, sockets, TcpState::TIME_WAIT);
  out.entered = e.evidence == Evidence::seen ? Entered::yes : e.evidence == Evidence::not_seen ? Entered::no : Entered::unknown;
  out.why = e.why;
  for (const StateHistory& h : sockets)
    if (h.end == SocketEnd::timewait_skipped) out.skipped.push_back(history_text(h));
  if (out.entered != Entered::yes) return out;
  const std::vector<TimewaitTimer> timers = timewait_timers(trace, sockets);
  if (timers.empty()) return out;
  out.expires = timers.front().samples.front()->expires;
  out.sampled_at = timers.front().samples.front()->at;
  for (const TimewaitTimer& t : timers) {
    for (const TimewaitRestart& r : t.restarts) out.restarts.push_back({r.after, r.by, r.moved});
    if (const std::size_t n = arrivals_while_blind(trace, t)) out.blind.push_back({t.blind, n});
  }
  return out;
}

// The claim with each side it names resolved on `trace`.
TimeWaitClaim claim_of(const Trace& trace, const TimeWaitExpect& x) {
  TimeWaitClaim c{std::nullopt, x.expires_min, x.expires_max, x.restarted};
  if (x.entered_by) {
    c.entered_by.emplace();
    for (const SideRef ref : *x.entered_by) c.entered_by->push_back({ref, side_on(trace, ref)});
  }
  return c;
}

// Each side's TIME_WAIT, and a timer the claim needs that was never sampled.
TimeWaitSeen observe_sides(const Trace& trace, const TimeWaitExpect& x) {
  TimeWaitSeen t;
  for (const Side side : {Side::client, Side::server}) {
    t.sides.push_back(side_timewait(trace, side));
    const SideTimeWaitSeen& s = t.sides.back();
    if (s.entered == Entered::yes && !s.expires && (x.expires_min || x.expires_max || x.restarted))
      t.unknowns.push_back({TimeWaitDoubt::timer_unsampled, side, 0});
  }
  return t;
}

// The claim's parts against what the sides did: who entered, the timer's range, a restart.
void judge_claim(const TimeWaitClaim& c, TimeWaitSeen& t) {
  std::set<Side> entered, not_entered;
  std::vector<TimeWaitUnknown> who_unknown, blind;
  bool restarted = false, any_timer = false;
  for (const SideTimeWaitSeen& s : t.sides) {
    if (s.entered == Entered::yes) entered.insert(s.side);
    if (s.entered == Entered::no) not_entered.insert(s.side);
    if (s.entered == Entered::unknown) who_unknown.push_back({TimeWaitDoubt::who_unknown, s.side, 0});
    if (s.expires && ((c.expires_min && *s.expires < *c.expires_min) || (c.expires_max && *s.expires > *c.expires_max)))
      t.problems.push_back({TimeWaitMiss::timer_out_of_range, s.side});
    for (std::size_t i = 0; i < s.blind.size(); ++i) blind.push_back({TimeWaitDoubt::blind, s.side, i});
    restarted = restarted || !s.restarts.empty();
    any_timer = any_timer || s.expires.has_value();
  }
  if (c.entered_by) {
    std::set<Side> want;
    for (const SideNamed& n : *c.entered_by)
      if (n.side) want.insert(*n.side);
    // A side that entered against the wish fails at once; one unknown only leaves it open.
    const bool wrong = std::any_of(entered.begin(), entered.end(), [&](Side s) { return !want.count(s); }) ||
                       std::any_of(want.begin(), want.end(), [&](Side s) { return not_entered.count(s) > 0; });
    if (wrong) t.problems.push_back({TimeWaitMiss::entered_by, std::nullopt});
    t.unknowns.insert(t.unknowns.end(), who_unknown.begin(), who_unknown.end());
  }
  if ((c.expires_min || c.expires_max) && entered.empty()) {
    if (who_unknown.empty())
      t.problems.push_back({TimeWaitMiss::no_timer, std::nullopt});
    else if (!c.entered_by)
      t.unknowns.insert(t.unknowns.end(), who_unknown.begin(), who_unknown.end());
  }
  const bool timer_unseen = !entered.empty() && !any_timer;  // said in unknowns already
  // "Never restarted" needs every stretch a restart could have hidden in to be empty.
  if (c.restarted && !*c.restarted && !restarted) t.unknowns.insert(t.unknowns.end(), blind.begin(), blind.end());
  if (c.restarted && *c.restarted != restarted && !timer_unseen && (restarted || blind.empty()))
    t.problems.push_back({restarted ? TimeWaitMiss::restarted : TimeWaitMiss::never_restarted, std::nullopt});
}

}  // namespace

CheckResult check_timewait(const Trace& trace, const TimeWaitExpect& x) {
  CheckSubject subject;
  subject.connection = x.connection;
  Finding f{CheckId{CheckKind::timewait, subject, {}}, claim_of(trace, x), NothingSeen{}, {}, {}, {}};
  if (state_histories(trace).empty()) {
    f.why_not = NotChecked{Unjudged::no_socket_states, {}, {}};
    return judged(std::move(f), Outcome::not_checked, x.line);
  }
  TimeWaitSeen t = observe_sides(trace, x);
  t.jiffy = trace.jiffy;
  judge_claim(std::get<TimeWaitClaim>(f.expected), t);
  const Outcome outcome = !t.problems.empty() ? Outcome::fail : !t.unknowns.empty() ? Outcome::not_checked : Outcome::pass;
  f.saw = std::move(t);
  CheckResult r = judged(std::move(f), outcome, x.line);
  // Another side may still enter TIME_WAIT, a wanted one may yet, and a restart may still come.
  const bool never_restarted = x.restarted && !*x.restarted;
  judge_window(r, trace, {x.entered_by.has_value() || never_restarted, x.entered_by.has_value() || (x.restarted && *x.restarted)});
  return r;
}

}  // namespace lastack
