#pragma once
// The policy's own expectations ([[expect]] tables), one check per kind; check_expectation
// (oracle.hpp) picks the right one.
#include "lastack/oracle.hpp"
#include "lastack/policy.hpp"
#include "lastack/trace.hpp"
#include "harness/core/oracle/expect/expectations_app.hpp"
#include "harness/core/oracle/expect/expectations_counters.hpp"
#include "harness/core/oracle/expect/expectations_sockets.hpp"
#include "harness/core/oracle/expect/expectations_timewait.hpp"
#include "harness/core/oracle/expect/expectations_wire.hpp"

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

}  // namespace lastack
