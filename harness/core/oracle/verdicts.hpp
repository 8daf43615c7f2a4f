#pragma once
// A run's verdicts as a whole: the oracle's checks plus the run's own (did it finish), the
// one place that reads a check's pass/fail, and how two sets of verdicts differ (a replay
// against its recording).
#include <string>
#include <string_view>
#include <vector>

#include "lastack/oracle.hpp"

namespace lastack {

/// True when the trace records that the run hit its timeout (a LabEvent of kind timeout).
bool run_timed_out(const Trace& trace);

/// The check a run that hit its timeout gets first: failed, pointing at the trace's end.
CheckResult run_finished_check(const Policy& policy);

/// "PASS" or "FAIL": a check's verdict in one word.
std::string_view verdict_word(const CheckResult& r);

/// True when the check failed: the run's exit code is 1.
bool check_failed(const CheckResult& r);

/// How `replayed` differs from `recorded`, check by check in order: a different name, verdict
/// or saw text, or a check only one side has. Empty when they are the same.
std::vector<std::string> verdict_differences(const std::vector<CheckResult>& recorded,
                                             const std::vector<CheckResult>& replayed);

}  // namespace lastack
