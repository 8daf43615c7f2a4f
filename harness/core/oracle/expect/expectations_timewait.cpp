// The `timewait` expectation: who entered TIME_WAIT (the kernel's word: a traced hand-over, a
// sample, or the overflow counter), the timer when first seen, and whether its expiry moved.
#include "harness/core/oracle/expect/expectations_timewait.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/core/oracle/close_order.hpp"
#include "harness/core/base/duration_text.hpp"
#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/oracle/expect/expectations.hpp"
#include "harness/core/trace/state_history.hpp"
#include "harness/core/trace/timewait_timer.hpp"
#include "harness/core/oracle/window.hpp"

namespace lastack {

using namespace detail;

namespace {

// One side's TIME_WAIT as the trace shows it.
struct SideTimeWait {
  StateEvidence entered;
  std::vector<StateHistory> sockets;
  std::vector<TimewaitTimer> timers;  // each timewait socket's timer, where sampled
  std::vector<std::string> skipped;   // sockets the overflow counter says skipped TIME_WAIT
};

SideTimeWait side_timewait(const Trace& trace, Side side) {
  SideTimeWait out;
  out.sockets = side_histories(trace, side);
  std::erase_if(out.sockets, [](const StateHistory& h) { return h.request; });
  out.entered = state_evidence(trace, side, out.sockets, TcpState::TIME_WAIT);
  out.timers = timewait_timers(trace, out.sockets);
  for (const StateHistory& h : out.sockets)
    if (h.end == SocketEnd::timewait_skipped) out.skipped.push_back(history_text(h));
  return out;
}

// The sides `refs` name that the trace resolves (a closer it does not leaves the check not checked).
std::set<Side> wanted_sides(const Trace& trace, const std::vector<SideRef>& refs) {
  std::set<Side> out;
  for (const SideRef ref : refs)
    if (const auto side = side_on(trace, ref)) out.insert(*side);
  return out;
}

// The wanted sides in words: "client", "first-closer (server)" for one named by close order,
// "first-closer" while the trace does not resolve it (its check is not checked then).
std::string wanted_sides_text(const Trace& trace, const std::vector<SideRef>& refs) {
  std::vector<std::string> names;
  for (const Side s : wanted_sides(trace, refs)) {
    std::string name(side_name(s));
    for (const SideRef ref : refs)
      if (ref.by_close_order() && side_on(trace, ref) == s) name = side_label(trace, ref);
    names.push_back(name);
  }
  for (const SideRef ref : refs)
    if (!side_on(trace, ref)) names.emplace_back(side_ref_name(ref));
  return names.empty() ? "nobody" : join(names, " and ");
}

std::string timewait_expected(const Trace& trace, const TimeWaitExpect& x, std::vector<std::string>& wants) {
  std::vector<std::string> expected;
  if (x.entered_by) {
    const std::string who = wanted_sides_text(trace, *x.entered_by);
    wants.push_back("entered by " + who);
    expected.push_back(who == "nobody" ? "no side enters TIME_WAIT"
                                       : fmt::format("exactly {} enter{} TIME_WAIT", who,
                                                     who.find(" and ") == std::string::npos ? "s" : ""));
  }
  if (x.expires_min || x.expires_max) {
    const std::string lo = x.expires_min ? seconds_text(*x.expires_min) : "0 s";
    const std::string hi = x.expires_max ? seconds_text(*x.expires_max) : "any";
    wants.push_back(fmt::format("timer {}..{}", lo, hi));
    expected.push_back(fmt::format("the TIME_WAIT timer between {} and {} when first seen", lo, hi));
  }
  if (x.restarted) {
    wants.push_back(*x.restarted ? "restarted" : "not restarted");
    expected.push_back(*x.restarted ? "the TIME_WAIT timer restarted (its expiry moved later)"
                                    : "the TIME_WAIT timer never restarted");
  }
  return join(expected, "; ");
}

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

// What the timers say about restarts: seen ones, and why "never" may not be decidable.
void judge_restarts(const Trace& trace, const std::string& name, const SideTimeWait& tw, bool& restarted,
                    std::vector<std::string>& seen, std::vector<std::string>& blind) {
  for (const TimewaitTimer& t : tw.timers) {
    for (const TimewaitRestart& r : t.restarts) {
      restarted = true;
      seen.push_back(fmt::format("{}'s timer restarted between {} and {} (its expiry moved {} later; bound: a "
                                 "jiffy, {}, plus each sample's duration)",
                                 name, ms_text(r.after), ms_text(r.by), ms_text(r.moved), ms_text(trace.jiffy)));
    }
    if (const std::size_t n = arrivals_while_blind(trace, t))
      blind.push_back(fmt::format("{}: a restart within {} of entering TIME_WAIT would not show in its expiry, "
                                     "and {} reached it then",
                                     name, ms_text(t.blind), counted(n, "segment")));
  }
}

}  // namespace

namespace {

// What the sides did about TIME_WAIT, and what the claim makes of it.
struct TimeWaitSeen {
  std::set<Side> entered, not_entered;
  std::vector<std::string> seen, problems, unknowns, who_unknown, blind;
  bool restarted = false, any_timer = false;
};

// Each side's TIME_WAIT: whether it entered, its timer when first sampled, its restarts.
TimeWaitSeen observe_sides(const Trace& trace, const TimeWaitExpect& x) {
  TimeWaitSeen t;
  for (const Side side : {Side::client, Side::server}) {
    const SideTimeWait tw = side_timewait(trace, side);
    const std::string name(side_name(side));
    for (const std::string& s : tw.skipped)
      t.seen.push_back(fmt::format("{} skipped TIME_WAIT (the {}'s TcpExt.TCPTimeWaitOverflow counted it; no timewait "
                                   "socket was seen)", s, name));
    if (tw.entered.evidence == Evidence::unknown) t.who_unknown.push_back(name + ": " + tw.entered.why);
    if (tw.entered.evidence == Evidence::not_seen) t.not_entered.insert(side);
    if (tw.entered.evidence == Evidence::not_seen && !tw.entered.why.empty() && tw.skipped.empty())
      t.seen.push_back(fmt::format("{} entered no TIME_WAIT ({})", name, tw.entered.why));
    if (tw.entered.evidence != Evidence::seen) continue;
    t.entered.insert(side);
    if (tw.timers.empty()) {
      t.seen.push_back(name + " entered TIME_WAIT (the kernel's close; no sample of its timer)");
      if (x.expires_min || x.expires_max || x.restarted) t.unknowns.push_back(name + "'s TIME_WAIT timer was never sampled");
      continue;
    }
    t.any_timer = true;
    const SocketEvent& first = *tw.timers.front().samples.front();
    t.seen.push_back(fmt::format("{} entered TIME_WAIT with {} left (at {})", name, seconds_text(first.expires),
                                 ms_text(first.at)));
    if ((x.expires_min && first.expires < *x.expires_min) || (x.expires_max && first.expires > *x.expires_max))
      t.problems.push_back(fmt::format("{}'s timer out of range", name));
    judge_restarts(trace, name, tw, t.restarted, t.seen, t.blind);
  }
  if (t.entered.empty()) t.seen.push_back("nobody entered TIME_WAIT");
  return t;
}

// The claim's parts against what the sides did: who entered, the timer's range, a restart.
void judge_claim(const Trace& trace, const TimeWaitExpect& x, TimeWaitSeen& t) {
  if (x.entered_by) {
    const std::set<Side> want = wanted_sides(trace, *x.entered_by);
    // A side that entered against the wish fails at once; one unknown only leaves it open.
    for (Side s : t.entered)
      if (!want.count(s)) t.problems.push_back(fmt::format("entered by {}", sides_text(t.entered)));
    for (Side s : want)
      if (t.not_entered.count(s)) t.problems.push_back(fmt::format("entered by {}", sides_text(t.entered)));
    t.unknowns.insert(t.unknowns.end(), t.who_unknown.begin(), t.who_unknown.end());
  }
  if ((x.expires_min || x.expires_max) && t.entered.empty()) {
    if (t.who_unknown.empty())
      t.problems.push_back("no timer to measure");
    else if (!x.entered_by)
      t.unknowns.insert(t.unknowns.end(), t.who_unknown.begin(), t.who_unknown.end());
  }
  const bool timer_unseen = !t.entered.empty() && !t.any_timer;  // said in unknowns already
  // "Never restarted" needs every stretch a restart could have hidden in to be empty.
  if (x.restarted && !*x.restarted && !t.restarted) t.unknowns.insert(t.unknowns.end(), t.blind.begin(), t.blind.end());
  if (x.restarted && *x.restarted != t.restarted && !timer_unseen && (t.restarted || t.blind.empty()))
    t.problems.push_back(t.restarted ? "the timer restarted" : "the timer never restarted");
  std::sort(t.problems.begin(), t.problems.end());
  t.problems.erase(std::unique(t.problems.begin(), t.problems.end()), t.problems.end());
}

}  // namespace

CheckResult check_timewait(const Trace& trace, const TimeWaitExpect& x) {
  std::vector<std::string> wants;
  const std::string expected = timewait_expected(trace, x, wants);
  CheckResult r = expectation("timewait " + join(wants, ", "), x.line);
  r.expected = expected;
  CheckSubject subject;
  subject.connection = x.connection;
  const CheckId id{CheckKind::timewait, subject, {}};
  if (state_histories(trace).empty()) {
    r.outcome = Outcome::not_checked;
    r.saw = "no socket observed";
    return worded(std::move(r), id);
  }
  TimeWaitSeen t = observe_sides(trace, x);
  judge_claim(trace, x, t);
  r.outcome = !t.problems.empty() ? Outcome::fail : !t.unknowns.empty() ? Outcome::not_checked : Outcome::pass;
  r.saw = join(t.seen);
  if (x.restarted && !t.restarted && t.any_timer) r.saw += "; timer never restarted";
  if (!t.problems.empty()) r.saw += " (" + join(t.problems) + ")";
  else if (!t.unknowns.empty()) r.saw += ": not checked: " + join(t.unknowns);
  r = worded(std::move(r), id);
  // Another side may still enter TIME_WAIT, a wanted one may yet, and a restart may still come.
  const bool never_restarted = x.restarted && !*x.restarted;
  judge_window(r, trace, {x.entered_by.has_value() || never_restarted, x.entered_by.has_value() || (x.restarted && *x.restarted)});
  return r;
}

}  // namespace lastack
