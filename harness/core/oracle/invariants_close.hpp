#pragma once
// The built-in checks about states and the close: legal steps, TIME_WAIT only for active
// closers, every byte delivered.
#include <vector>

#include "harness/core/trace/state_history.hpp"
#include "lastack/finding_invariants.hpp"
#include "lastack/oracle.hpp"
#include "lastack/policy.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// `h`'s shown steps as a finding keeps them: each state, the socket that held it, what it rests on.
std::vector<PathStep> path_steps(const StateHistory& h);

/// Every socket's sampled state changes are legal steps of the TCP state diagram.
CheckResult check_legal_states(const Trace& trace);

/// Only active closers enter TIME_WAIT, and an active closer that completed its close does
/// (unless TIME_WAIT was switched off or destroyed on purpose).
CheckResult check_timewait_only_active_closers(const Trace& trace);

/// Each direction delivers every byte the sending app wrote, unless a reset or error intervened;
/// old bytes an app check expects (`stale-from`) are left to that check.
CheckResult check_bytes_delivered(const Trace& trace, const Policy& policy);

}  // namespace lastack
