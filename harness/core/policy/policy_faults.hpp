#pragma once
// Reading [[fault]] tables: which segments the wire drops, delays, holds or duplicates.
#include <toml++/toml.h>

#include "lastack/policy.hpp"
#include "harness/core/policy/policy_toml.hpp"

namespace lastack::policy_toml {

/// One [[fault]] table -> FaultRule; throws InputError("file:line: what") on the first problem.
FaultRule read_fault(const toml::table& table, const Problems& problems);

}  // namespace lastack::policy_toml
