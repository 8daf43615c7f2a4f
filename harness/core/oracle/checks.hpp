#pragma once
// The parts judge_trace (lastack/oracle.hpp) is made of, for the oracle's own files and its
// tests: the built-ins, one expectation, and both in order.
#include <vector>

#include "lastack/oracle.hpp"
#include "lastack/policy.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// Run every built-in invariant over the trace.
std::vector<CheckResult> check_invariants(const Trace& trace, const Policy& policy);

/// Check one policy expectation.
CheckResult check_expectation(const Trace& trace, const Expectation& expect);

/// Invariants, then every [[expect]] of the policy, in file order (one result per connection
/// for an expectation judged on each of several connections: see per_connection.hpp).
std::vector<CheckResult> run_oracle(const Trace& trace, const Policy& policy);

}  // namespace lastack
