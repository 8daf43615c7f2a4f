#pragma once
// The trace's wire: what the packet capture in `wire` saw enter and leave, joined with what the
// interceptor decided about the segments it queued.
#include <cstdint>
#include <optional>
#include <vector>

#include "lastack/clock.hpp"
#include "lastack/per_side.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// One TCP segment the capture saw cross one of wire's two veths.
struct CapturedSegment {
  Instant at{};                     // the kernel's timestamp, on the run's clock
  Side facing = Side::client;       // the veth it crossed: the one facing the client, or the server
  bool egress = false;              // leaving wire toward `facing` (false: entering wire from it)
  std::vector<std::uint8_t> bytes;  // the IP packet, cut after the headers
  std::uint32_t length = 0;         // its real length
};

/// The merged wire and what could not be accounted for.
struct MergedWire {
  std::vector<WireEvent> events;  // one per segment sent, in the order they entered wire
  std::vector<LabEvent> errors;   // kind harness_error: the wire the trace shows would be incomplete
  // Segments the endpoints put on the wire after `end`, left out: by sender.
  PerSide<std::uint64_t> after_end;
};

/// The harness must not reorder the wire: per connection and direction, a segment that no fault
/// delayed or held leaves wire in the order it entered. One harness error per overtaking.
std::vector<LabEvent> reordering_errors(const std::vector<WireEvent>& wire);

/// Join the capture with the interceptor's log. Each segment that entered wire becomes one
/// WireEvent stamped with its ingress time, fate passed and `queued` false unless a queued
/// segment matches it (then the interceptor's fate, fault, note and packet id), `delivered_at`
/// the time it left (none when dropped). Injected segments (`intercepted` entries marked
/// injected) exist only at egress. Matching is per key (addresses, the whole TCP header:
/// ports, seq, ack, flags, window, checksum, options; TCP length), in order, never by time.
/// Segments entering after `end` (the run's end) are left out. A queued or injected segment
/// the capture never saw, a capture nothing explains, or a passed segment that never left is
/// an error. Roles come from a fresh FlowTracker over the merged wire, in wire order.
/// Without `egress_tapped` (loopback: the capture sees a segment at lo's xmit, before the queue
/// at INPUT, and no tap follows the verdict) a segment that went on left when the interceptor
/// let it go (`released`), else when it entered: the verdict's time, not a captured one; an
/// injected segment is then the copy that entered with its key (lastack sent it into lo).
MergedWire merge_wire(const std::vector<CapturedSegment>& captured, const std::vector<WireEvent>& intercepted,
                      const std::vector<IpAddress>& client_addresses, std::optional<Instant> end = std::nullopt,
                      bool egress_tapped = true);

}  // namespace lastack
