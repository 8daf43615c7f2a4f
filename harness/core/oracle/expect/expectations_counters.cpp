// Policy expectations about the kernel's own counters: how much one changed in a side's namespace
// over the run (Trace::counters).
#include "harness/core/oracle/expect/expectations_counters.hpp"

#include <optional>
#include <string>

#include <fmt/format.h>

#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/oracle/expect/expectations.hpp"
#include "harness/core/oracle/window.hpp"
#include "lastack/netstat.hpp"
#include "harness/core/base/netstat.hpp"

namespace lastack {

using namespace detail;

namespace {

// "by exactly +3", "by at least +1", "by +1 to +3"; "unchanged" for count = 0.
std::string change_text(const CountBound<std::int64_t>& b) {
  if (b.count) return *b.count == 0 ? "unchanged" : fmt::format("changed by exactly {:+}", *b.count);
  if (b.min && b.max) return fmt::format("changed by {:+} to {:+}", *b.min, *b.max);
  if (b.min) return fmt::format("changed by at least {:+}", *b.min);
  return fmt::format("changed by at most {:+}", b.max.value_or(0));
}

// A name the kernel has in another spelling of case ("TcpExt.pawsestab"): the likely meaning.
std::optional<std::string> same_but_case(const CounterDeltas& counters, const std::string& name) {
  for (const auto& [known, delta] : counters)
    if (same_text_ignoring_case(known, name)) return known;
  return std::nullopt;
}

}  // namespace

CheckResult check_counter(const Trace& trace, const CounterExpect& x) {
  const std::string side(side_name(x.side));
  CheckResult r = expectation(fmt::format("counter {} {}", side, x.name), x.line);
  r.expected = fmt::format("the {}'s kernel counter {} {} over the run", side, x.name, change_text(x.change));
  const auto& counters = trace.counters[x.side];
  if (!counters) {
    r.outcome = Outcome::not_checked;
    r.saw = fmt::format("the {}'s kernel counters were not read in this run", side);
    return r;
  }
  const std::string_view group = counter_group(x.name);
  std::int64_t delta = 0;
  std::string note;
  if (const auto it = counters->find(x.name); it != counters->end()) {
    delta = it->second;
  } else if (group == "IcmpMsg") {
    note = " (the kernel lists an IcmpMsg type only once it is counted)";
  } else {
    r.saw = fmt::format("no counter {} in the {}'s {}", x.name, side, counter_file(group));
    if (const auto known = same_but_case(*counters, x.name)) r.saw += fmt::format(" (it has {})", *known);
    return r;
  }
  r.outcome = outcome_of(x.change.admits(delta));
  r.saw = fmt::format("{} {} {:+}{}", side, x.name, delta, note);
  // A counter can still move while anything is pending: any bound may yet break or be met.
  judge_window(r, trace, {true, true});
  return r;
}

}  // namespace lastack
