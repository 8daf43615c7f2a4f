#pragma once
// Reading [[fault]] tables: which segments the wire drops, delays, holds, duplicates or resets, and when.
#include <toml++/toml.h>

#include "lastack/policy.hpp"
#include "harness/core/policy/policy_toml.hpp"

namespace lastack::policy_toml {

/// One [[fault]] table -> FaultRule; throws InputError("file:line: what") on the first problem.
/// `timeout`: the scenario's, past which a window can never open.
FaultRule read_fault(const toml::table& table, const Problems& problems, Millis timeout);

}  // namespace lastack::policy_toml
