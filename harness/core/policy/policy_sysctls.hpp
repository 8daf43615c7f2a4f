#pragma once
// Reading [sysctl.client] / [sysctl.server] / [sysctl.both]: per-namespace net.* settings.
#include "lastack/policy.hpp"
#include "harness/core/policy/policy_toml.hpp"

namespace lastack::policy_toml {

/// The top level's `sysctl` table into scenario.{client,server}_sysctls and sysctl_lines;
/// a setting in [sysctl.both] that a side also sets is an error.
void read_sysctls(const TableReader& root, Scenario& scenario, const Problems& problems);

}  // namespace lastack::policy_toml
