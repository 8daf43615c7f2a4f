#pragma once
// Reading [[lab]] tables: what the lab itself does when a segment passes (destroy TIME_WAIT, inject RST).
#include <toml++/toml.h>

#include "lastack/policy.hpp"
#include "harness/core/policy/policy_toml.hpp"

namespace lastack::policy_toml {

/// One [[lab]] table -> LabAction; throws InputError("file:line: what") on the first problem.
LabAction read_lab(const toml::table& table, const Problems& problems);

}  // namespace lastack::policy_toml
