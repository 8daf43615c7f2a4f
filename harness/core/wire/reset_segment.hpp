#pragma once
// The RSTs a `reset` fault puts on the wire in place of a segment: one to each end it names,
// each seeming to come from the other end and carrying the exact sequence number its receiver
// expects (RFC 5961 3.2: Linux resets only on SEG.SEQ == RCV.NXT; anything else in window
// draws a challenge ACK and leaves the connection up).
#include <optional>
#include <vector>

#include "harness/core/wire/segment_builder.hpp"
#include "lastack/roles.hpp"
#include "lastack/segment.hpp"

namespace lastack {

/// One RST to send, and the end that receives it.
struct ResetFor {
  Side to = Side::client;
  SegmentSpec rst;
};

/// The RST the sender of `replaced` would send in its place, toward that segment's receiver:
/// <SEQ=SEG.SEQ><ACK=SEG.ACK><CTL=RST,ACK> when it carries ACK, else <SEQ=SEG.SEQ><CTL=RST>.
/// Its SEQ is the receiver's RCV.NXT when every earlier segment of that direction arrived (the
/// replaced segment is the next one the receiver expects); in SYN-SENT the ACK is what counts.
SegmentSpec reset_to_receiver(const Segment& replaced);

/// The RSTs replacing `replaced` (sent by `sender`), to `to` or both ends (unset), the receiver
/// first: to the receiver, reset_to_receiver; to the sender, reset_to_sender (SEQ=SEG.ACK, the
/// sender's own RCV.NXT when it sent the segment).
std::vector<ResetFor> resets_replacing(const Segment& replaced, Side sender, std::optional<Side> to);

}  // namespace lastack
