#pragma once
// Reading [[expect]] tables: what the oracle checks after the run, one `check` kind per table.
#include <toml++/toml.h>

#include "lastack/policy.hpp"
#include "harness/core/policy/policy_toml.hpp"

namespace lastack::policy_toml {

/// One [[expect]] table -> Expectation of its `check` kind; throws InputError("file:line: what").
Expectation read_expect(const toml::table& table, const Problems& problems);

}  // namespace lastack::policy_toml
