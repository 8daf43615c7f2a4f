// Policy expectations about the kernel's own counters: how much one changed in a side's namespace
// over the run (Trace::counters).
#include "harness/core/oracle/expect/expectations_counters.hpp"

#include <optional>
#include <string>

#include <fmt/format.h>

#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/oracle/expect/expectations.hpp"
#include "harness/core/oracle/window.hpp"
#include "harness/core/oracle/words/finding_words.hpp"
#include "lastack/netstat.hpp"
#include "harness/core/base/netstat.hpp"

namespace lastack {

using namespace detail;

namespace {

// A name the kernel has in another spelling of case ("TcpExt.pawsestab"): the likely meaning.
std::optional<std::string> same_but_case(const CounterDeltas& counters, const std::string& name) {
  for (const auto& [known, delta] : counters)
    if (same_text_ignoring_case(known, name)) return known;
  return std::nullopt;
}

}  // namespace

CheckResult check_counter(const Trace& trace, const CounterExpect& x) {
  CheckSubject subject = side_subject(trace, x.side);
  subject.counter = x.name;
  Finding f{CheckId{CheckKind::counter, std::move(subject), {}}, CountClaim{x.change, false}, NothingSeen{}, {}, {}, {}};
  const auto& counters = trace.counters[x.side];
  if (!counters) {
    f.why_not = NotChecked{Unjudged::counters_not_read, {}, {}};
    return judged(std::move(f), Outcome::not_checked, x.line);
  }
  CounterSeen seen;
  if (const auto it = counters->find(x.name); it != counters->end()) {
    seen.delta = it->second;
  } else if (counter_group(x.name) == "IcmpMsg") {
    seen.unlisted = true;
  } else {
    seen.missing = true;
    seen.other_case = same_but_case(*counters, x.name);
    f.saw = std::move(seen);
    return judged(std::move(f), Outcome::fail, x.line);
  }
  const bool ok = x.change.admits(seen.delta);
  f.saw = std::move(seen);
  CheckResult r = judged(std::move(f), outcome_of(ok), x.line);
  // A counter can still move while anything is pending: any bound may yet break or be met.
  judge_window(r, trace, {true, true});
  return r;
}

}  // namespace lastack
