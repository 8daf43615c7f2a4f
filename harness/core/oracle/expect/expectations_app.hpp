#pragma once
// The app check where commands (lastack exec) are concerned.
#include "lastack/oracle.hpp"
#include "lastack/policy.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// True when the trace holds lastack exec's commands (an AppEvent with an exit status).
bool ran_commands(const Trace& trace);

/// True when check_app judges commands: under exec, or when the check names exit or output.
bool judges_commands(const Trace& trace, const AppExpect& expect);

/// The app check where commands are concerned: exit status and an output regex judged under
/// exec; sees/received/sent there, and exit/output for lastack's own agents, "not checked".
CheckResult check_app_commands(const Trace& trace, const AppExpect& expect);

}  // namespace lastack
