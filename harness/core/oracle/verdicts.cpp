#include "harness/core/oracle/verdicts.hpp"
#include "harness/core/oracle/checks.hpp"
#include "harness/core/oracle/words/finding_words.hpp"

#include <algorithm>
#include <variant>

#include <fmt/format.h>

namespace lastack {

bool run_timed_out(const Trace& trace) {
  return std::any_of(trace.events.begin(), trace.events.end(), [](const TraceEvent& e) {
    const auto* l = std::get_if<LabEvent>(&e);
    return l && l->kind == LabEventKind::timeout;
  });
}

CheckResult run_finished_check(const Policy& policy) {
  return judged(Finding{CheckId{CheckKind::run_finished, {}, {}}, FinishClaim{policy.scenario.timeout}, NothingSeen{},
                        {}, {}, {}},
                Outcome::fail);
}

std::vector<CheckResult> judge_trace(const Trace& trace, const Policy& policy) {
  std::vector<CheckResult> results = run_oracle(trace, policy);
  if (run_timed_out(trace)) results.insert(results.begin(), run_finished_check(policy));
  return results;
}

// The one place that reads CheckResult's verdict field (with check_failed below).
std::string_view verdict_word(const CheckResult& r) { return outcome_label(r.outcome); }

bool check_failed(const CheckResult& r) { return r.outcome == Outcome::fail; }

std::vector<std::string> verdict_differences(const std::vector<CheckResult>& recorded,
                                             const std::vector<CheckResult>& replayed) {
  std::vector<std::string> out;
  const std::size_t common = std::min(recorded.size(), replayed.size());
  for (std::size_t i = 0; i < common; ++i) {
    const CheckResult &was = recorded[i], &now = replayed[i];
    if (was.name != now.name)
      out.push_back(fmt::format("check {} was \"{}\", now \"{}\"", i + 1, was.name, now.name));
    else if (verdict_word(was) != verdict_word(now))
      out.push_back(fmt::format("{}: recorded {}, replayed {}", now.name, verdict_word(was), verdict_word(now)));
    else if (was.saw != now.saw)
      out.push_back(fmt::format("{}: recorded saw \"{}\", replayed saw \"{}\"", now.name, was.saw, now.saw));
  }
  for (std::size_t i = common; i < recorded.size(); ++i)
    out.push_back(fmt::format("{}: recorded, not replayed", recorded[i].name));
  for (std::size_t i = common; i < replayed.size(); ++i)
    out.push_back(fmt::format("{}: replayed, not recorded", replayed[i].name));
  return out;
}

}  // namespace lastack
