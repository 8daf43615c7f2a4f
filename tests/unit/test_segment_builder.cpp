// Hand-made segments: what build_segment writes parses back field for field, both checksums
// verify with an independent one's-complement sum, and the RST toward a sender is the one
// RFC 9293 (and Linux's TIME_WAIT) accepts.
#include <catch2/catch.hpp>

#include <cstdint>
#include <span>
#include <vector>

#include "lastack/error.hpp"
#include "lastack/segment.hpp"
#include "harness/core/wire/segment_builder.hpp"
#include "hex_bytes.hpp"

using namespace lastack;

namespace {

IpAddress addr(const char* text) { return IpAddress::parse(text).value(); }

// One's-complement sum of 16-bit big-endian words, computed as the sum modulo 0xffff (RFC 1071
// 2.(1)): a different route from the end-around-carry fold the builder uses.
std::uint16_t ones_complement_sum(const std::vector<std::uint8_t>& bytes) {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) total += i % 2 == 0 ? bytes[i] * 256u : bytes[i];
  if (total == 0) return 0;
  const std::uint64_t r = total % 0xffff;
  return static_cast<std::uint16_t>(r == 0 ? 0xffff : r);
}

std::vector<std::uint8_t> slice(const std::vector<std::uint8_t>& v, std::size_t from, std::size_t n) {
  return {v.begin() + static_cast<std::ptrdiff_t>(from), v.begin() + static_cast<std::ptrdiff_t>(from + n)};
}

// A valid IPv4 header sums (checksum field included) to all ones.
bool ipv4_header_checksum_ok(const std::vector<std::uint8_t>& packet) {
  return ones_complement_sum(slice(packet, 0, 20)) == 0xffff;
}

// A valid TCP checksum makes pseudo-header + TCP header + payload sum to all ones.
bool tcp_checksum_ok(const std::vector<std::uint8_t>& packet) {
  const bool v4 = packet[0] >> 4 == 4;
  const std::size_t ip_len = v4 ? 20 : 40;
  const std::size_t tcp_len = packet.size() - ip_len;
  std::vector<std::uint8_t> pseudo = v4 ? slice(packet, 12, 8) : slice(packet, 8, 32);
  if (v4) {
    pseudo.insert(pseudo.end(), {0, 6, static_cast<std::uint8_t>(tcp_len >> 8), static_cast<std::uint8_t>(tcp_len)});
  } else {
    pseudo.insert(pseudo.end(),
                  {0, 0, static_cast<std::uint8_t>(tcp_len >> 8), static_cast<std::uint8_t>(tcp_len), 0, 0, 0, 6});
  }
  const auto tcp = slice(packet, ip_len, tcp_len);
  pseudo.insert(pseudo.end(), tcp.begin(), tcp.end());
  return ones_complement_sum(pseudo) == 0xffff;
}

SegmentSpec ipv4_spec() {
  SegmentSpec s;
  s.src = addr("198.18.1.2");
  s.dst = addr("198.18.2.2");
  s.sport = 40000;
  s.dport = 8080;
  s.seq = SeqNum(0xfffffff0);  // near the wrap: raw values must survive
  s.ack = SeqNum(2000000001);
  s.flags.bits = TcpFlags::PSH | TcpFlags::ACK;
  s.window = 502;
  s.ttl = 63;
  s.payload = {'h', 'e', 'l', 'l', 'o'};  // odd length: the checksum pads the last byte
  return s;
}

// The client's final ACK of a close: 198.18.1.2.40000 > 198.18.2.2.8080: Flags [.],
// seq 1000001002, ack 2000000002, sent from TIME_WAIT.
Segment final_ack_from_client() {
  SegmentSpec s;
  s.src = addr("198.18.1.2");
  s.dst = addr("198.18.2.2");
  s.sport = 40000;
  s.dport = 8080;
  s.seq = SeqNum(1000001002);
  s.ack = SeqNum(2000000002);
  s.flags.bits = TcpFlags::ACK;
  s.window = 502;
  return parse_segment(build_segment(s));
}

}  // namespace

TEST_CASE("an IPv4 segment parses back with every field as described", "[segment-builder]") {
  const SegmentSpec spec = ipv4_spec();
  const auto packet = build_segment(spec);
  REQUIRE(packet.size() == 20 + 20 + 5);
  CHECK(packet[0] == 0x45);
  CHECK(packet[8] == 63);  // TTL
  CHECK((packet[6] & 0x40) != 0);  // DF
  const Segment seg = parse_segment(packet);
  CHECK(seg.src == spec.src);
  CHECK(seg.dst == spec.dst);
  CHECK(seg.sport == 40000);
  CHECK(seg.dport == 8080);
  CHECK(seg.seq.raw() == 0xfffffff0);
  CHECK(seg.ack.raw() == 2000000001);
  CHECK(seg.flags.bits == (TcpFlags::PSH | TcpFlags::ACK));
  CHECK(seg.window == 502);
  CHECK(seg.ip_header_len == 20);
  CHECK(seg.tcp_header_len == 20);
  CHECK(seg.payload_len == 5);
  CHECK_FALSE(seg.options.mss);
  CHECK_FALSE(seg.options.ts_val);
  CHECK(std::vector<std::uint8_t>(packet.end() - 5, packet.end()) == spec.payload);
}

TEST_CASE("an IPv4 segment's header and TCP checksums verify independently", "[segment-builder]") {
  const auto packet = build_segment(ipv4_spec());
  CHECK(ipv4_header_checksum_ok(packet));
  CHECK(tcp_checksum_ok(packet));
  // A flipped payload bit must break the TCP checksum (the check can fail).
  auto corrupted = packet;
  corrupted.back() ^= 0x01;
  CHECK_FALSE(tcp_checksum_ok(corrupted));
}

TEST_CASE("an IPv6 segment parses back and its TCP checksum covers the pseudo-header", "[segment-builder]") {
  SegmentSpec spec;
  spec.src = addr("fd00:2::2");
  spec.dst = addr("fd00:1::2");
  spec.sport = 8080;
  spec.dport = 40000;
  spec.seq = SeqNum(2000000000);
  spec.ack = SeqNum(1000000001);
  spec.flags.bits = TcpFlags::FIN | TcpFlags::ACK;
  spec.window = 507;
  spec.payload = {1, 2, 3, 4};
  const auto packet = build_segment(spec);
  REQUIRE(packet.size() == 40 + 20 + 4);
  CHECK(packet[0] >> 4 == 6);
  CHECK(packet[7] == 64);  // hop limit
  const Segment seg = parse_segment(packet);
  CHECK(seg.src == spec.src);
  CHECK(seg.dst == spec.dst);
  CHECK(seg.sport == 8080);
  CHECK(seg.dport == 40000);
  CHECK(seg.seq == spec.seq);
  CHECK(seg.ack == spec.ack);
  CHECK(seg.flags.bits == (TcpFlags::FIN | TcpFlags::ACK));
  CHECK(seg.window == 507);
  CHECK(seg.ip_header_len == 40);
  CHECK(seg.payload_len == 4);
  CHECK(seg.seq_space() == 5);
  CHECK(tcp_checksum_ok(packet));
  auto moved = packet;
  moved[39] ^= 0x01;  // another destination: the pseudo-header sum no longer matches
  CHECK_FALSE(tcp_checksum_ok(moved));
}

TEST_CASE("the RST toward the sender of a final ACK is byte for byte what tcpdump shows", "[segment-builder]") {
  // IP 198.18.2.2.8080 > 198.18.1.2.40000: Flags [R], seq 2000000002, win 0, length 0
  const auto expected = test::hex(
      "4500 0028 0000 4000 4006 aba7 c612 0202 "
      "c612 0102 1f90 9c40 7735 9402 0000 0000 "
      "5004 0000 59af 0000 ");
  const auto packet = build_reset_to_sender(final_ack_from_client());
  CHECK(packet == expected);
  CHECK(ipv4_header_checksum_ok(packet));
  CHECK(tcp_checksum_ok(packet));
}

TEST_CASE("a RST answering a segment with ACK takes SEG.ACK as its sequence number, without ACK",
          "[segment-builder]") {
  const Segment trigger = final_ack_from_client();
  const Segment rst = parse_segment(build_reset_to_sender(trigger));
  CHECK(rst.src == trigger.dst);
  CHECK(rst.dst == trigger.src);
  CHECK(rst.sport == trigger.dport);
  CHECK(rst.dport == trigger.sport);
  // The TIME_WAIT socket's rcv_nxt is what its final ACK acknowledged.
  CHECK(rst.seq == trigger.ack);
  CHECK(rst.flags.bits == TcpFlags::RST);
  CHECK(rst.ack.raw() == 0);
  CHECK(rst.window == 0);
  CHECK(rst.payload_len == 0);
  CHECK(rst.tcp_header_len == 20);  // no options: Linux applies no PAWS check to it
}

TEST_CASE("a RST answering a segment without ACK acknowledges it, with sequence number 0",
          "[segment-builder]") {
  SegmentSpec syn;
  syn.src = addr("fd00:1::2");
  syn.dst = addr("fd00:2::2");
  syn.sport = 40000;
  syn.dport = 8080;
  syn.seq = SeqNum(0xffffffff);  // seq + 1 wraps to 0
  syn.flags.bits = TcpFlags::SYN;
  const Segment trigger = parse_segment(build_segment(syn));
  const auto packet = build_reset_to_sender(trigger);
  const Segment rst = parse_segment(packet);
  CHECK(rst.src == trigger.dst);
  CHECK(rst.dst == trigger.src);
  CHECK(rst.sport == 8080);
  CHECK(rst.dport == 40000);
  CHECK(rst.seq.raw() == 0);
  CHECK(rst.ack.raw() == 0);  // SEG.SEQ + SEG.LEN, the SYN counting one
  CHECK(rst.flags.bits == (TcpFlags::RST | TcpFlags::ACK));
  CHECK(tcp_checksum_ok(packet));
}

TEST_CASE("a segment between an IPv4 and an IPv6 address is refused", "[segment-builder]") {
  SegmentSpec spec = ipv4_spec();
  spec.dst = addr("fd00:2::2");
  CHECK_THROWS_AS(build_segment(spec), HarnessError);
}

TEST_CASE("a payload too large for one IP packet is refused", "[segment-builder]") {
  SegmentSpec spec = ipv4_spec();
  spec.payload.assign(0xffff - 40 + 1, 0);
  CHECK_THROWS_AS(build_segment(spec), HarnessError);
  spec.payload.resize(0xffff - 40);
  CHECK(parse_segment(build_segment(spec)).payload_len == 0xffff - 40);
}
