#pragma once
// Checks on the wire alone: segment counts, how many segments each close took, connections.
#include "lastack/oracle.hpp"
#include "lastack/policy.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// How many wire segments match the selector (and `with`), whatever their fate.
CheckResult check_segments(const Trace& trace, const SegmentsExpect& expect);

/// How many segments each close took: first FIN through the first final-ack, both directions.
CheckResult check_close(const Trace& trace, const CloseExpect& expect);

/// How many distinct connections appeared on the wire.
CheckResult check_connections(const Trace& trace, const ConnectionsExpect& expect);

}  // namespace lastack
