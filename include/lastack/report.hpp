#pragma once
// The verdict table. Pure rendering from the check results. (The ladder: ladder.hpp; the trace
// as JSON Lines: trace_jsonl.hpp.)
#include <string>
#include <string_view>
#include <vector>

#include "lastack/ladder.hpp"  // render_ladder, beside the table in every report
#include "lastack/oracle.hpp"

namespace lastack {

/// The verdict table: one row per check, PASS / FAIL / NOT CHECKED / N/A, expected vs saw for
/// failures, the reason for a check not made; then "N checks: P passed, F failed, U not checked"
/// and, when given, `note` (the sampling note) on a line of its own.
std::string render_verdicts(const std::vector<CheckResult>& results, bool color = false,
                            std::string_view note = {});

/// "N checks: P passed, F failed, U not checked" (", A not applicable" when some are).
std::string check_counts_text(const std::vector<CheckResult>& results);

}  // namespace lastack
