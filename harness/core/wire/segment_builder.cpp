#include "harness/core/wire/segment_builder.hpp"

#include <fmt/format.h>

#include <span>

#include "harness/core/wire/checksum.hpp"
#include "lastack/error.hpp"

namespace lastack {

namespace {

constexpr std::uint8_t ip_proto_tcp = 6;
constexpr std::size_t ipv4_header_len = 20;
constexpr std::size_t ipv6_header_len = 40;
constexpr std::size_t tcp_header_len = 20;
constexpr std::size_t ip_max_len = 0xffff;
constexpr std::uint16_t ipv4_dont_fragment = 0x4000;

/// Appends big-endian fields to a packet under construction.
class ByteWriter {
 public:
  explicit ByteWriter(std::vector<std::uint8_t>& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }

 private:
  std::vector<std::uint8_t>& out_;
};

std::span<const std::uint8_t> address_bytes(const IpAddress& a) {
  return std::span<const std::uint8_t>(a.bytes).first(a.family == IpFamily::v4 ? 4 : 16);
}

void put_u16(std::vector<std::uint8_t>& packet, std::size_t offset, std::uint16_t v) {
  packet[offset] = static_cast<std::uint8_t>(v >> 8);
  packet[offset + 1] = static_cast<std::uint8_t>(v);
}

}  // namespace

std::vector<std::uint8_t> build_segment(const SegmentSpec& spec) {
  if (spec.src.family != spec.dst.family)
    throw HarnessError(fmt::format("build_segment: {} and {} are not the same IP version", spec.src.str(),
                                   spec.dst.str()));
  const bool v4 = spec.src.family == IpFamily::v4;
  const std::size_t ip_len = v4 ? ipv4_header_len : ipv6_header_len;
  const std::size_t tcp_len = tcp_header_len + spec.payload.size();
  if (tcp_len + (v4 ? ip_len : 0) > ip_max_len)
    throw HarnessError(fmt::format("build_segment: a {}-byte payload does not fit one IP packet",
                                   spec.payload.size()));

  std::vector<std::uint8_t> packet;
  packet.reserve(ip_len + tcp_len);
  ByteWriter w(packet);
  if (v4) {
    w.u8(0x45);  // version 4, IHL 5: no options
    w.u8(0);     // DSCP/ECN
    w.u16(static_cast<std::uint16_t>(ip_len + tcp_len));
    w.u16(0);    // identification: meaningless with DF set
    w.u16(ipv4_dont_fragment);
    w.u8(spec.ttl);
    w.u8(ip_proto_tcp);
    w.u16(0);    // header checksum, below
  } else {
    w.u32(0x60000000);  // version 6, traffic class 0, flow label 0
    w.u16(static_cast<std::uint16_t>(tcp_len));
    w.u8(ip_proto_tcp);
    w.u8(spec.ttl);
  }
  w.bytes(address_bytes(spec.src));
  w.bytes(address_bytes(spec.dst));
  if (v4) put_u16(packet, 10, checksum_fold(checksum_add(0, packet)));

  w.u16(spec.sport);
  w.u16(spec.dport);
  w.u32(spec.seq.raw());
  w.u32(spec.ack.raw());
  w.u8(static_cast<std::uint8_t>((tcp_header_len / 4) << 4));
  w.u8(spec.flags.bits);
  w.u16(spec.window);
  w.u16(0);  // checksum, below
  w.u16(0);  // urgent pointer
  w.bytes(spec.payload);

  // Pseudo-header (RFC 9293 3.1, RFC 8200 8.1): both addresses, protocol, TCP length.
  std::uint32_t sum = checksum_add(0, address_bytes(spec.src));
  sum = checksum_add(sum, address_bytes(spec.dst));
  sum += ip_proto_tcp + static_cast<std::uint32_t>(tcp_len);
  sum = checksum_add(sum, std::span<const std::uint8_t>(packet).subspan(ip_len));
  put_u16(packet, ip_len + 16, checksum_fold(sum));
  return packet;
}

SegmentSpec reset_to_sender(const Segment& trigger) {
  SegmentSpec rst;
  rst.src = trigger.dst;
  rst.dst = trigger.src;
  rst.sport = trigger.dport;
  rst.dport = trigger.sport;
  if (trigger.flags.ack()) {
    rst.seq = trigger.ack;
    rst.flags.bits = TcpFlags::RST;
  } else {
    rst.ack = trigger.seq_end();
    rst.flags.bits = TcpFlags::RST | TcpFlags::ACK;
  }
  return rst;
}

std::vector<std::uint8_t> build_reset_to_sender(const Segment& trigger) {
  return build_segment(reset_to_sender(trigger));
}

}  // namespace lastack
