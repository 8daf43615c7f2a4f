#pragma once
// Which wire segments are the kernel's retransmissions. The flow tracker calls a segment that
// repeats its sender's sequence space a retransmission, and that is all the wire can say; when
// the kernel reported its retransmissions (traced runs), its account decides the label instead:
// a repeat it did not retransmit (a simultaneous open's SYN-ACK, new data below a high-water mark
// an old incarnation set) is no retransmission. lastack's own copies never are.
#include <optional>
#include <string>

#include "lastack/trace.hpp"

namespace lastack {

/// Traced: give the retransmission role to exactly the wire segments the kernel's retransmission
/// events account for (per sender, connection and first sequence number, the last N transmissions
/// for N retransmissions that left), and take it from every other. Sampled: the wire's labels
/// stand, but a side whose counters say it retransmitted nothing (Tcp.RetransSegs +0) loses them.
void label_retransmissions(Trace& trace);

/// True when `side`'s counters were read and say it retransmitted nothing (Tcp.RetransSegs +0).
bool none_counted(const Trace& trace, Side side);

/// Why the trace cannot name `side`'s retransmissions: states sampled (no tracer), and its
/// counters counted some (or were not read), so which segments they were is only the wire's
/// inference. nullopt when the kernel's word names them (traced) or says there were none.
std::optional<std::string> retransmissions_unnamed(const Trace& trace, Side side);

}  // namespace lastack
