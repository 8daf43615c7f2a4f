#pragma once
// Reading [scenario]: each side's steps, the port, how long to settle and wait, who finishes.
#include <cstddef>
#include <string>

#include <toml++/toml.h>

#include "lastack/policy.hpp"
#include "harness/core/policy/policy_toml.hpp"

namespace lastack::policy_toml {

/// One step as a policy writes it ("send 1000", "sleep 50ms", "exit"), found at `line`.
Step parse_step(const std::string& text, std::size_t line, const Problems& problems);

/// The [scenario] table -> Scenario (sysctls are read separately, by read_sysctls).
Scenario read_scenario(const toml::table& table, const Problems& problems);

}  // namespace lastack::policy_toml
