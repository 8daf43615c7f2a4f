#pragma once
// The run's sources examined against each other: the kernel's tracepoint events, its namespace
// counters, its sock_diag samples and the wire. Where two of them say different things about the
// same fact, the harness lost or invented something: a harness error, never a verdict.
#include <string>
#include <vector>

#include "lastack/finding_invariants.hpp"
#include "lastack/oracle.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// One fact two sources disagree on, in words naming both numbers (lastack/finding_invariants.hpp).
using Disagreement = SourcesDisagree;

/// The facts that hold exactly on Linux (per endpoint namespace, over the run), each checked
/// where the trace has both sources:
/// - Tcp.RetransSegs = retransmission events that left + TcpExt.TCPRetransFail + SYN-ACK retransmissions;
/// - Tcp.OutRsts = the kernel's sent-reset events = the RSTs it put on the wire;
/// - segments on the wire from the side = Tcp.OutSegs + Tcp.RetransSegs - SYN-ACK retransmissions
///   + crossed SYN-ACKs of a simultaneous open (SYN_SENT -> SYN_RECV), up to the segments that
///   entered the wire after the run's end (counted, not kept);
/// - TcpExt.TW + TWKilled + TCPTimeWaitOverflow = full sockets handed over to a timewait socket;
/// - Tcp.PassiveOpens = LISTEN -> SYN_RECV changes; Tcp.ActiveOpens = SYNs the side put on the wire;
/// - Tcp.EstabResets = ESTABLISHED or CLOSE_WAIT -> CLOSE changes;
/// - each socket's changes chain (each starts where the one before ended; the first from CLOSE,
///   or from LISTEN for a passive child), and each close with ECONNRESET or EPIPE (tcp_reset's
///   errors) follows a received-reset event of the same socket;
/// - every retransmission the kernel says left is on the wire;
/// - a socket's timewait samples agree with the facts its close recorded, and its TIME_WAIT
///   expiry never moves earlier.
/// The wire's facts are left out when sockets off the wire (a loopback backend) share the counters.
std::vector<Disagreement> disagreements(const Trace& trace);

/// The built-in `sources-agree`: passes when the sources agree, fails (a harness error: the run
/// proves nothing) naming each disagreement, not applicable when the trace has no kernel events
/// or no counters to compare.
CheckResult check_sources_agree(const Trace& trace);

/// When a run's only harness errors are its kernel observer's misses (events the kernel made
/// and counted that the observer never reported: the experiment was sound, its record is not),
/// each in words; empty when there is none or any harness error has another cause. Such a run
/// may be repeated: nothing in it was the lab's doing.
std::vector<std::string> observer_misses_only(const Trace& trace);

}  // namespace lastack
