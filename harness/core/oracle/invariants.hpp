#pragma once
// The built-in TCP invariants: what every run must show, whatever the policy asked for.
// Each is one small function over the trace; check_invariants (oracle.hpp) runs them all.
#include "lastack/oracle.hpp"
#include "lastack/trace.hpp"
#include "harness/core/oracle/invariants_close.hpp"

namespace lastack {

/// SYN and FIN each consume one sequence number: the peer acknowledges them with seq+len+1.
CheckResult check_syn_fin_consume_seq(const Trace& trace);

/// A dropped segment carrying sequence space is sent again from the same sequence number,
/// unless the connection was reset or the sender gave up (socket closed by timeout).
CheckResult check_dropped_is_retransmitted(const Trace& trace);

/// Repeated retransmissions of one sequence number back off: no gap shorter than the last.
CheckResult check_retransmission_backoff(const Trace& trace);

/// The kernel dropped no segment on the way to the interceptor's queue.
CheckResult check_harness_queue_drops(const Trace& trace);

/// The lab reported no harness error (LabEvents of kind harness_error: capture drops, segments
/// the capture and the interceptor disagree on, unparseable queued packets, verdict errors).
CheckResult check_harness_errors(const Trace& trace);

}  // namespace lastack
