#pragma once
// Whether an old connection's segments could have reached a later connection's receive window:
// the precondition of `app` `stale-from`. A later incarnation of a four-tuple starts its sequence
// numbers where the ISN clock has got to; when that is past every byte the old connection sent,
// each old segment lies wholly below the new window and can deliver nothing.
#include <cstddef>
#include <optional>
#include <string>

#include "lastack/trace.hpp"

namespace lastack {

/// Why no segment `sender` sent in connection `old` could deliver a byte in any later
/// connection on the same ports: each one's first sequence number is at or past the end of
/// everything `sender` sent in `old` (RFC 9293 3.10.7.4: a segment wholly below RCV.NXT carries
/// nothing new). nullopt when a later connection starts inside or before the old sequence space,
/// when none follows, or when the wire lacks a SYN it needs.
std::optional<std::string> stale_out_of_reach(const Trace& trace, Side sender, ConnectionIndex old);

}  // namespace lastack
