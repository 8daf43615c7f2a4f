#pragma once
// The built-in TCP invariants: what every run must show, whatever the policy asked for.
// Each is one small function over the trace; check_invariants (oracle.hpp) runs them all.
#include "harness/core/oracle.hpp"
#include "harness/core/trace.hpp"

namespace lastack {

/// SYN and FIN each consume one sequence number: the peer acknowledges them with seq+len+1.
CheckResult check_syn_fin_consume_seq(const Trace& trace);

/// A dropped segment carrying sequence space is sent again from the same sequence number,
/// unless the connection was reset or the sender gave up (socket closed by timeout).
CheckResult check_dropped_is_retransmitted(const Trace& trace);

/// Repeated retransmissions of one sequence number back off: no gap shorter than the last.
CheckResult check_retransmission_backoff(const Trace& trace);

/// Every socket's sampled state changes are legal steps of the TCP state diagram.
CheckResult check_legal_states(const Trace& trace);

/// Only active closers enter TIME_WAIT, and an active closer that completed its close does
/// (unless TIME_WAIT was switched off or destroyed on purpose).
CheckResult check_timewait_only_active_closers(const Trace& trace);

/// Each direction delivers every byte the sending app wrote, unless a reset or error intervened;
/// old bytes an app check expects (`stale-from`) are left to that check.
CheckResult check_bytes_delivered(const Trace& trace, const Policy& policy);

/// The kernel dropped no segment on the way to the interceptor's queue.
CheckResult check_harness_queue_drops(const Trace& trace);

/// The lab reported no harness error (LabEvents of kind harness_error: capture drops, segments
/// the capture and the interceptor disagree on, unparseable queued packets, verdict errors).
CheckResult check_harness_errors(const Trace& trace);

}  // namespace lastack
