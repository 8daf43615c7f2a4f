#pragma once
// One run of a policy: build the lab, run the agents through the interceptor while observing,
// then judge the trace with the oracle.
#include <functional>
#include <string>
#include <vector>

#include "harness/core/oracle.hpp"
#include "harness/core/policy.hpp"
#include "harness/core/queue_rules.hpp"
#include "harness/core/trace.hpp"

namespace lastack {

struct RunOptions {
  bool ipv6 = false;
  Capture capture = Capture::selective;
  std::uint16_t queue_num = 0;  // each run has its own wire namespace, so 0 never collides
};

struct RunResult {
  Trace trace;
  std::vector<CheckResult> results;
  bool passed = false;  // every check passed
  Duration wall{};      // how long the run took
};

/// Run `policy` once in a fresh lab. Throws EnvironmentError / HarnessError when the lab cannot
/// be built or misbehaves; expectation failures are results, not exceptions.
RunResult run_policy(const Policy& policy, const RunOptions& options);

}  // namespace lastack
