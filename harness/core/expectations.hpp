#pragma once
// The policy's own expectations ([[expect]] tables), one check per kind; check_expectation
// (oracle.hpp) picks the right one.
#include "harness/core/oracle.hpp"
#include "harness/core/policy.hpp"
#include "harness/core/trace.hpp"

namespace lastack {

/// The selected segment's first original is retransmitted (count, timing vs RTO, backoff).
CheckResult check_retransmitted(const Trace& trace, const RetransmittedExpect& expect);

/// A side's socket reaches / ends in / never enters a state.
CheckResult check_state(const Trace& trace, const StateExpect& expect);

/// How many RSTs a side (or either) put on the wire.
CheckResult check_reset(const Trace& trace, const ResetExpect& expect);

/// What an agent saw: an outcome, bytes read, bytes written. Under lastack exec (or with exit /
/// output), check_app_commands judges instead.
CheckResult check_app(const Trace& trace, const AppExpect& expect);

/// True when the trace holds lastack exec's commands (an AppEvent with an exit status).
bool ran_commands(const Trace& trace);

/// True when check_app judges commands: under exec, or when the check names exit or output.
bool judges_commands(const Trace& trace, const AppExpect& expect);

/// The app check where commands are concerned: exit status and an output regex judged under
/// exec; sees/received/sent there, and exit/output for lastack's own agents, "not checked".
CheckResult check_app_commands(const Trace& trace, const AppExpect& expect);

/// Who entered TIME_WAIT, the timer when first seen, and whether it restarted.
CheckResult check_timewait(const Trace& trace, const TimeWaitExpect& expect);

/// How many wire segments match the selector (and `with`), whatever their fate.
CheckResult check_segments(const Trace& trace, const SegmentsExpect& expect);

/// How many segments each close took: first FIN through the first final-ack, both directions.
CheckResult check_close(const Trace& trace, const CloseExpect& expect);

/// How many distinct connections appeared on the wire.
CheckResult check_connections(const Trace& trace, const ConnectionsExpect& expect);

/// No socket of a side is left in (or held longer than a time in) the given states
/// (expectations_sockets.cpp).
CheckResult check_socket_held(const Trace& trace, const SocketHeldExpect& expect);

/// How much a kernel counter of a side's namespace changed over the run; "not checked" when the
/// counters were not read, failed when the kernel has no such counter (expectations_counters.cpp).
CheckResult check_counter(const Trace& trace, const CounterExpect& expect);

}  // namespace lastack
