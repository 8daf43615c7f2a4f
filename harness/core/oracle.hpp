#pragma once
// The oracle: built-in TCP invariants plus the policy's expectations, checked over a trace.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/policy.hpp"
#include "harness/core/trace.hpp"

namespace lastack {

/// A check's three answers (and a fourth for built-ins that do not apply to the run).
enum class Outcome : std::uint8_t {
  pass,            // it looked, and what it saw is what it expected
  fail,            // it looked, and saw otherwise
  not_checked,     // it could not look (nothing observed, sampling, a mode that cannot see)
  not_applicable,  // a built-in invariant with nothing to judge in this run
};
/// "PASS", "FAIL", "NOT CHECKED", "N/A".
std::string_view outcome_label(Outcome o);

/// One check's verdict, in words a person can act on.
struct CheckResult {
  std::string name;      // "retransmitted second-fin from server", "invariant: fin-consumes-seq"
  bool builtin = false;  // a built-in invariant rather than a policy [[expect]]
  bool passed = false;
  std::string expected;  // "a retransmission about 1 RTO (204 ms) after the original"
  std::string saw;       // "retransmitted once, 211 ms later, same seq 1001"
  std::size_t line = 0;  // the [[expect]] line, 0 for built-ins
};

/// Timing tolerance: max(15 ms, 15 %) of the expected gap, per docs/design.md (The oracle).
Duration gap_tolerance(Duration expected);

/// Run every built-in invariant over the trace.
std::vector<CheckResult> check_invariants(const Trace& trace, const Policy& policy);

/// Check one policy expectation.
CheckResult check_expectation(const Trace& trace, const Expectation& expect);

/// Invariants, then every [[expect]] of the policy, in file order.
std::vector<CheckResult> run_oracle(const Trace& trace, const Policy& policy);

}  // namespace lastack
