// timewait in words: "client entered TIME_WAIT with 60.0 s left (at 52.4 ms); client's timer
// restarted between ...".
#include "harness/core/oracle/words/timewait_words.hpp"

#include <algorithm>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "harness/core/base/duration_text.hpp"
#include "harness/core/oracle/expect/expectation_support.hpp"

namespace lastack {

using namespace detail;

namespace {

// The wanted sides: "client", "first-closer (server)" for one named by close order,
// "first-closer" while the trace does not resolve it (its check is not checked then).
std::string wanted_sides_text(const std::vector<SideNamed>& refs) {
  std::set<Side> sides;
  for (const SideNamed& n : refs)
    if (n.side) sides.insert(*n.side);
  std::vector<std::string> names;
  for (const Side s : sides) {
    std::string name(side_name(s));
    for (const SideNamed& n : refs)
      if (n.ref.by_close_order() && n.side == s) name = fmt::format("{} ({})", side_ref_name(n.ref), side_name(s));
    names.push_back(name);
  }
  for (const SideNamed& n : refs)
    if (!n.side) names.emplace_back(side_ref_name(n.ref));
  return names.empty() ? "nobody" : join(names, " and ");
}

// The claim's parts: as the name says them (`wants`) and as the claim (the return).
std::vector<std::string> claim_parts(const TimeWaitClaim& c, std::vector<std::string>& wants) {
  std::vector<std::string> expected;
  if (c.entered_by) {
    const std::string who = wanted_sides_text(*c.entered_by);
    wants.push_back("entered by " + who);
    expected.push_back(who == "nobody" ? "no side enters TIME_WAIT"
                                       : fmt::format("exactly {} enter{} TIME_WAIT", who,
                                                     who.find(" and ") == std::string::npos ? "s" : ""));
  }
  if (c.expires_min || c.expires_max) {
    const std::string lo = c.expires_min ? seconds_text(*c.expires_min) : "0 s";
    const std::string hi = c.expires_max ? seconds_text(*c.expires_max) : "any";
    wants.push_back(fmt::format("timer {}..{}", lo, hi));
    expected.push_back(fmt::format("the TIME_WAIT timer between {} and {} when first seen", lo, hi));
  }
  if (c.restarted) {
    wants.push_back(*c.restarted ? "restarted" : "not restarted");
    expected.push_back(*c.restarted ? "the TIME_WAIT timer restarted (its expiry moved later)"
                                    : "the TIME_WAIT timer never restarted");
  }
  return expected;
}

// One side's TIME_WAIT in words, appended to `seen`.
void side_text(const SideTimeWaitSeen& s, std::chrono::microseconds jiffy, std::vector<std::string>& seen) {
  const std::string name(side_name(s.side));
  for (const std::string& socket : s.skipped)
    seen.push_back(fmt::format("{} skipped TIME_WAIT (the {}'s TcpExt.TCPTimeWaitOverflow counted it; no timewait "
                               "socket was seen)", socket, name));
  if (s.entered == Entered::no && !s.why.empty() && s.skipped.empty())
    seen.push_back(fmt::format("{} entered no TIME_WAIT ({})", name, s.why));
  if (s.entered != Entered::yes) return;
  if (!s.expires) {
    seen.push_back(name + " entered TIME_WAIT (the kernel's close; no sample of its timer)");
    return;
  }
  seen.push_back(fmt::format("{} entered TIME_WAIT with {} left (at {})", name, seconds_text(*s.expires),
                             ms_text(s.sampled_at.value_or(Instant{}))));
  for (const TimerRestartSeen& r : s.restarts)
    seen.push_back(fmt::format("{}'s timer restarted between {} and {} (its expiry moved {} later; bound: a "
                               "jiffy, {}, plus each sample's duration)",
                               name, ms_text(r.after), ms_text(r.by), ms_text(r.moved), ms_text(Duration(jiffy))));
}

std::string problem_text(const TimeWaitProblem& p, const TimeWaitSeen& t) {
  switch (p.miss) {
    case TimeWaitMiss::entered_by: {
      std::set<Side> entered;
      for (const SideTimeWaitSeen& s : t.sides)
        if (s.entered == Entered::yes) entered.insert(s.side);
      return fmt::format("entered by {}", sides_text(entered));
    }
    case TimeWaitMiss::timer_out_of_range:
      return fmt::format("{}'s timer out of range", side_name(p.side.value_or(Side::client)));
    case TimeWaitMiss::no_timer: return "no timer to measure";
    case TimeWaitMiss::restarted: return "the timer restarted";
    case TimeWaitMiss::never_restarted: return "the timer never restarted";
  }
  return "";
}

std::string unknown_text(const TimeWaitUnknown& u, const TimeWaitSeen& t) {
  const std::string name(side_name(u.side));
  const auto side = std::find_if(t.sides.begin(), t.sides.end(), [&](const SideTimeWaitSeen& s) { return s.side == u.side; });
  switch (u.doubt) {
    case TimeWaitDoubt::who_unknown: return name + ": " + (side != t.sides.end() ? side->why : "");
    case TimeWaitDoubt::timer_unsampled: return name + "'s TIME_WAIT timer was never sampled";
    case TimeWaitDoubt::blind: {
      if (side == t.sides.end() || u.stretch >= side->blind.size()) return name;
      const BlindStretch& b = side->blind[u.stretch];
      return fmt::format("{}: a restart within {} of entering TIME_WAIT would not show in its expiry, and {} reached "
                         "it then",
                         name, ms_text(b.blind), counted(b.arrivals, "segment"));
    }
  }
  return name;
}

}  // namespace

std::string timewait_name(const TimeWaitClaim& c) {
  std::vector<std::string> wants;
  claim_parts(c, wants);
  return "timewait " + join(wants, ", ");
}

std::string timewait_expected(const TimeWaitClaim& c) {
  std::vector<std::string> wants;
  return join(claim_parts(c, wants), "; ");
}

std::string timewait_saw(const TimeWaitClaim& c, const TimeWaitSeen& t) {
  std::vector<std::string> seen;
  bool entered = false, restarted = false, any_timer = false;
  for (const SideTimeWaitSeen& s : t.sides) {
    side_text(s, t.jiffy, seen);
    entered = entered || s.entered == Entered::yes;
    restarted = restarted || !s.restarts.empty();
    any_timer = any_timer || s.expires.has_value();
  }
  if (!entered) seen.emplace_back("nobody entered TIME_WAIT");
  std::string out = join(seen);
  if (c.restarted && !restarted && any_timer) out += "; timer never restarted";
  std::vector<std::string> problems;
  for (const TimeWaitProblem& p : t.problems) problems.push_back(problem_text(p, t));
  std::sort(problems.begin(), problems.end());
  problems.erase(std::unique(problems.begin(), problems.end()), problems.end());
  std::vector<std::string> unknowns;
  for (const TimeWaitUnknown& u : t.unknowns) unknowns.push_back(unknown_text(u, t));
  if (!problems.empty()) out += " (" + join(problems) + ")";
  else if (!unknowns.empty()) out += ": not checked: " + join(unknowns);
  return out;
}

}  // namespace lastack
