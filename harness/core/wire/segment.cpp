#include "lastack/segment.hpp"

#include <arpa/inet.h>  // inet_pton: pure text conversion, no I/O

#include <fmt/format.h>

#include <algorithm>

#include "harness/core/wire/byte_reader.hpp"
#include "lastack/error.hpp"

namespace lastack {

namespace {

constexpr std::uint8_t ip_proto_tcp = 6;
constexpr std::size_t ipv4_min_header = 20;
constexpr std::size_t ipv6_fixed_header = 40;
constexpr std::size_t tcp_min_header = 20;

// The IP layer's verdict: header length, and how many octets it says follow it (TCP header + payload).
struct IpLayer {
  std::size_t header_len = 0;
  std::size_t transport_len = 0;
};

std::string ip_proto_name(std::uint8_t proto) {
  switch (proto) {
    case 1: return "ICMP";
    case 17: return "UDP";
    case 58: return "ICMPv6";
    case 132: return "SCTP";
    default: return fmt::format("protocol {}", proto);
  }
}

void copy_address(std::span<const std::uint8_t> from, IpFamily family, IpAddress& to) {
  to.family = family;
  to.bytes.fill(0);
  std::copy(from.begin(), from.end(), to.bytes.begin());
}

IpLayer parse_ipv4(std::span<const std::uint8_t> packet, Segment& seg) {
  ByteReader ip(packet, "IPv4 header");
  const std::size_t header_len = std::size_t(ip.u8() & 0x0f) * 4;
  if (header_len < ipv4_min_header)
    throw ParseError(fmt::format("IPv4 header length {} is below the minimum 20 (bad IHL {})", header_len,
                                 header_len / 4));
  ip.skip(1);  // DSCP/ECN
  const std::size_t total_len = ip.u16();
  ip.skip(2);  // identification
  const std::uint16_t fragment_offset = ip.u16() & 0x1fff;
  ip.skip(1);  // TTL
  const std::uint8_t proto = ip.u8();
  ip.skip(2);  // header checksum
  copy_address(ip.bytes(4), IpFamily::v4, seg.src);
  copy_address(ip.bytes(4), IpFamily::v4, seg.dst);
  ip.skip(header_len - ipv4_min_header);  // options: only their length matters
  if (total_len < header_len)
    throw ParseError(fmt::format("IPv4 total length {} is shorter than its header ({})", total_len, header_len));
  // Later fragments have no TCP header of their own: their first bytes are payload.
  if (fragment_offset != 0)
    throw ParseError(fmt::format("IPv4 non-first fragment (offset {} octets) carries no TCP header",
                                 fragment_offset * 8));
  if (proto != ip_proto_tcp) throw ParseError(fmt::format("not TCP: IPv4 carries {}", ip_proto_name(proto)));
  return {header_len, total_len - header_len};
}

std::string_view ipv6_extension_name(std::uint8_t next) {
  switch (next) {
    case 0: return "IPv6 hop-by-hop options header";
    case 43: return "IPv6 routing header";
    case 44: return "IPv6 fragment header";
    case 60: return "IPv6 destination options header";
    default: return "IPv6 extension header";
  }
}

IpLayer parse_ipv6(std::span<const std::uint8_t> packet, Segment& seg) {
  ByteReader ip(packet, "IPv6 header");
  ip.skip(4);  // version, traffic class, flow label
  const std::size_t payload_len = ip.u16();
  std::uint8_t next = ip.u8();
  ip.skip(1);  // hop limit
  copy_address(ip.bytes(16), IpFamily::v6, seg.src);
  copy_address(ip.bytes(16), IpFamily::v6, seg.dst);

  std::size_t extensions_len = 0;
  while (next != ip_proto_tcp) {
    const std::string_view name = ipv6_extension_name(next);
    ByteReader ext(ip.rest(), name);
    std::size_t ext_len = 0;
    switch (next) {
      case 0:    // hop-by-hop options
      case 43:   // routing
      case 60: { // destination options
        next = ext.u8();
        ext_len = (std::size_t(ext.u8()) + 1) * 8;  // in 8-octet units, not counting the first 8
        ext.skip(ext_len - 2);
        break;
      }
      case 44: {  // fragment
        next = ext.u8();
        ext.skip(1);
        const std::uint16_t offset = ext.u16() >> 3;
        ext.skip(4);  // identification
        ext_len = 8;
        if (offset != 0)
          throw ParseError(fmt::format("IPv6 non-first fragment (offset {} octets) carries no TCP header",
                                       offset * 8));
        break;
      }
      case 59:
        throw ParseError("not TCP: IPv6 next header is 59 (no next header)");
      default:
        throw ParseError(fmt::format("not TCP: IPv6 carries {}", ip_proto_name(next)));
    }
    ip.skip(ext_len);
    extensions_len += ext_len;
  }
  if (payload_len < extensions_len)
    throw ParseError(fmt::format("IPv6 payload length {} is shorter than its extension headers ({})", payload_len,
                                 extensions_len));
  return {ipv6_fixed_header + extensions_len, payload_len - extensions_len};
}

// Throws unless a known option has the length RFC 9293 / 7323 / 2018 give it.
void expect_option_length(std::string_view name, std::uint8_t kind, std::size_t len, std::size_t expected) {
  if (len != expected)
    throw ParseError(fmt::format("TCP option {} (kind {}) has length {}, expected {}", name, kind, len, expected));
}

TcpOptions parse_tcp_options(ByteReader opts) {
  TcpOptions out;
  while (opts.remaining() > 0) {
    const std::uint8_t kind = opts.u8();
    if (kind == 0) break;     // end of option list
    if (kind == 1) continue;  // no-operation padding
    const std::size_t len = opts.u8();
    if (len < 2) throw ParseError(fmt::format("TCP option kind {} has length {}, below 2", kind, len));
    ByteReader body = opts.sub(len - 2, "TCP option");
    switch (kind) {
      case 2:
        expect_option_length("MSS", kind, len, 4);
        out.mss = body.u16();
        break;
      case 3:
        expect_option_length("window scale", kind, len, 3);
        out.window_scale = body.u8();
        break;
      case 4:
        expect_option_length("SACK-permitted", kind, len, 2);
        out.sack_permitted = true;
        break;
      case 5:
        if (len < 10 || (len - 2) % 8 != 0)
          throw ParseError(fmt::format("TCP option SACK (kind 5) has length {}, expected 2 + 8 per block", len));
        out.sack_blocks = static_cast<std::uint8_t>((len - 2) / 8);
        break;
      case 8:
        expect_option_length("timestamps", kind, len, 10);
        out.ts_val = body.u32();
        out.ts_ecr = body.u32();
        break;
      default:
        break;  // options lastack does not report are skipped by length
    }
  }
  return out;
}

void parse_tcp(std::span<const std::uint8_t> bytes, std::size_t transport_len, Segment& seg) {
  ByteReader tcp(bytes, "TCP header");
  seg.sport = tcp.u16();
  seg.dport = tcp.u16();
  seg.seq = SeqNum(tcp.u32());
  seg.ack = SeqNum(tcp.u32());
  const std::size_t header_len = std::size_t(tcp.u8() >> 4) * 4;
  seg.flags.bits = tcp.u8();
  seg.window = tcp.u16();
  tcp.skip(4);  // checksum, urgent pointer
  if (header_len < tcp_min_header)
    throw ParseError(fmt::format("TCP data offset {} is below the minimum 5", header_len / 4));
  if (header_len > transport_len)
    throw ParseError(fmt::format("TCP header length {} exceeds the {} octets the IP header gives it", header_len,
                                 transport_len));
  seg.options = parse_tcp_options(tcp.sub(header_len - tcp_min_header, "TCP options"));
  seg.tcp_header_len = static_cast<std::uint16_t>(header_len);
  seg.payload_len = static_cast<std::uint32_t>(transport_len - header_len);
}

}  // namespace

Segment parse_segment(std::span<const std::uint8_t> packet) {
  if (packet.empty()) throw ParseError("empty packet");
  Segment seg;
  IpLayer ip;
  switch (packet[0] >> 4) {
    case 4: ip = parse_ipv4(packet, seg); break;
    case 6: ip = parse_ipv6(packet, seg); break;
    default: throw ParseError(fmt::format("not an IP packet: version {}", packet[0] >> 4));
  }
  seg.ip_header_len = static_cast<std::uint16_t>(ip.header_len);
  parse_tcp(packet.subspan(ip.header_len), ip.transport_len, seg);
  return seg;
}

std::optional<IpAddress> IpAddress::parse(const std::string& text) {
  IpAddress addr;
  if (inet_pton(AF_INET, text.c_str(), addr.bytes.data()) == 1) {
    addr.family = IpFamily::v4;
    return addr;
  }
  if (inet_pton(AF_INET6, text.c_str(), addr.bytes.data()) == 1) {
    addr.family = IpFamily::v6;
    return addr;
  }
  return std::nullopt;
}

bool IpAddress::loopback() const {
  if (family == IpFamily::v4) return bytes[0] == 127;
  static constexpr std::array<std::uint8_t, 12> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(mapped.begin(), mapped.end(), bytes.begin())) return bytes[12] == 127;
  return std::all_of(bytes.begin(), bytes.end() - 1, [](std::uint8_t b) { return b == 0; }) && bytes[15] == 1;
}

std::string IpAddress::str() const {
  const auto& b = bytes;
  if (family == IpFamily::v4) return fmt::format("{}.{}.{}.{}", b[0], b[1], b[2], b[3]);

  // RFC 5952 section 5: IPv4-mapped addresses keep the dotted quad.
  if (std::all_of(b.begin(), b.begin() + 10, [](std::uint8_t x) { return x == 0; }) && b[10] == 0xff &&
      b[11] == 0xff)
    return fmt::format("::ffff:{}.{}.{}.{}", b[12], b[13], b[14], b[15]);

  std::array<std::uint16_t, 8> groups{};
  for (std::size_t i = 0; i < 8; ++i) groups[i] = static_cast<std::uint16_t>((b[2 * i] << 8) | b[2 * i + 1]);

  // RFC 5952 section 4.2: "::" replaces the longest run of two or more zero groups, the first on a tie.
  std::size_t best_start = 8, best_len = 0;
  for (std::size_t i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i > best_len) best_start = i, best_len = j - i;
    i = j;
  }
  if (best_len < 2) best_start = 8;

  std::string out;
  for (std::size_t i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    out += fmt::format("{:x}", groups[i]);
  }
  return out;
}

std::string TcpFlags::tcpdump() const {
  // tcpdump's order and letters (print-tcp.c tcp_flag_values).
  static constexpr std::pair<std::uint8_t, char> letters[] = {{FIN, 'F'}, {SYN, 'S'}, {RST, 'R'}, {PSH, 'P'},
                                                              {ACK, '.'}, {URG, 'U'}, {ECE, 'E'}, {CWR, 'W'}};
  std::string out;
  for (auto [bit, letter] : letters)
    if (bits & bit) out += letter;
  return out.empty() ? "none" : out;
}

std::string TcpFlags::names() const {
  // Wireshark lists the set bits from the lowest up.
  static constexpr std::pair<std::uint8_t, std::string_view> words[] = {
      {FIN, "FIN"}, {SYN, "SYN"}, {RST, "RST"}, {PSH, "PSH"}, {ACK, "ACK"}, {URG, "URG"}, {ECE, "ECE"}, {CWR, "CWR"}};
  std::string out;
  for (auto [bit, word] : words) {
    if (!(bits & bit)) continue;
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out.empty() ? "<None>" : out;
}

}  // namespace lastack
