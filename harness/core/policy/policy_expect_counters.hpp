#pragma once
// Reading a `counter` expectation.
#include "lastack/policy.hpp"
#include "harness/core/policy/policy_toml.hpp"

namespace lastack::policy_toml {

/// check = "counter" (policy_expect_counters.cpp): side (required), name ("Group.Name",
/// required), count or min and/or max.
CounterExpect read_counter(const TableReader& t);

}  // namespace lastack::policy_toml
