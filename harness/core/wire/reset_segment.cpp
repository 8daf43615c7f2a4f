// RSTs in place of a segment, for the `reset` fault action.
#include "harness/core/wire/reset_segment.hpp"

namespace lastack {

SegmentSpec reset_to_receiver(const Segment& replaced) {
  SegmentSpec rst;
  rst.src = replaced.src;
  rst.dst = replaced.dst;
  rst.sport = replaced.sport;
  rst.dport = replaced.dport;
  rst.seq = replaced.seq;
  // As tcp_send_active_reset does: an abort's RST acknowledges what the sender had received.
  if (replaced.flags.ack()) {
    rst.ack = replaced.ack;
    rst.flags.bits = TcpFlags::RST | TcpFlags::ACK;
  } else {
    rst.flags.bits = TcpFlags::RST;
  }
  return rst;
}

std::vector<ResetFor> resets_replacing(const Segment& replaced, Side sender, std::optional<Side> to) {
  std::vector<ResetFor> out;
  const Side receiver = peer_of(sender);
  if (!to || *to == receiver) out.push_back({receiver, reset_to_receiver(replaced)});
  if (!to || *to == sender) out.push_back({sender, reset_to_sender(replaced)});
  return out;
}

}  // namespace lastack
