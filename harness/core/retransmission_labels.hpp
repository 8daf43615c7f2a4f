#pragma once
// Which wire segments are the kernel's retransmissions. The flow tracker calls a segment that
// repeats its sender's sequence space a retransmission, and that is all the wire can say; when
// the kernel reported its retransmissions (traced runs), its account decides the label instead:
// a repeat it did not retransmit (a simultaneous open's SYN-ACK, new data below a high-water mark
// an old incarnation set) is no retransmission. lastack's own copies never are.
#include "harness/core/trace.hpp"

namespace lastack {

/// Traced: give the retransmission role to exactly the wire segments the kernel's retransmission
/// events account for (per sender, connection and first sequence number, the last N transmissions
/// for N retransmissions that left), and take it from every other. Sampled: unchanged.
void label_retransmissions(Trace& trace);

}  // namespace lastack
