#pragma once
// `timewait`: who entered TIME_WAIT, the timer when first seen, and whether it restarted.
#include "lastack/oracle.hpp"
#include "lastack/policy.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// Who entered TIME_WAIT, the timer when first seen, and whether it restarted.
CheckResult check_timewait(const Trace& trace, const TimeWaitExpect& expect);

}  // namespace lastack
