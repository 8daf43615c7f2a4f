#pragma once
// `counter`: how much a kernel counter of a side's namespace changed over the run.
#include "lastack/oracle.hpp"
#include "lastack/policy.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// How much a kernel counter of a side's namespace changed over the run; "not checked" when the
/// counters were not read, failed when the kernel has no such counter (expectations_counters.cpp).
CheckResult check_counter(const Trace& trace, const CounterExpect& expect);

}  // namespace lastack
