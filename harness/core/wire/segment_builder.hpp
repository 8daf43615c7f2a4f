#pragma once
// Hand-made segments: complete IPv4/IPv6 TCP packets with valid checksums, for injection on the
// wire (a RST that seems to come from an endpoint, for one).
#include <cstdint>
#include <vector>

#include "lastack/segment.hpp"

namespace lastack {

/// What one outgoing TCP segment carries. No TCP options; the IP version is src's family.
struct SegmentSpec {
  IpAddress src, dst;
  std::uint16_t sport = 0, dport = 0;
  SeqNum seq, ack;
  TcpFlags flags;
  std::uint16_t window = 0;
  std::uint8_t ttl = 64;  // IPv6: hop limit
  std::vector<std::uint8_t> payload;
};

/// The IPv4 (20-byte header, DF) or IPv6 (40-byte header) packet for `spec`, with the IPv4
/// header checksum and the TCP checksum (over the pseudo-header) filled in.
/// Throws HarnessError when src and dst differ in family or the packet would exceed 65535 bytes.
std::vector<std::uint8_t> build_segment(const SegmentSpec& spec);

/// The RST that `trigger`'s receiver would send back for it (RFC 9293 3.10.7.1, as Linux's
/// tcp_v4_send_reset does): from trigger.dst:dport to trigger.src:sport; if the trigger carries
/// ACK, <SEQ=SEG.ACK><CTL=RST> (no ACK flag), else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
/// For a final ACK sent from TIME_WAIT, SEG.ACK is that socket's rcv_nxt: the only sequence
/// number Linux's tcp_timewait_state_process accepts for a RST (no options, so no PAWS check).
SegmentSpec reset_to_sender(const Segment& trigger);

/// A RST the peer of `trigger`'s sender would accept: build_segment(reset_to_sender(trigger)).
std::vector<std::uint8_t> build_reset_to_sender(const Segment& trigger);

}  // namespace lastack
