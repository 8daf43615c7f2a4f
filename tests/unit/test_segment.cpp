// The packet model: parse_segment over real header bytes, addresses and flag spellings.
// Each packet is commented with the line tcpdump prints for it (checksums are valid).
#include <catch2/catch.hpp>

#include <cstdint>
#include <string_view>
#include <vector>

#include "harness/core/wire/byte_reader.hpp"
#include "lastack/error.hpp"
#include "lastack/segment.hpp"
#include "hex_bytes.hpp"

using namespace lastack;

namespace {

using test::hex;

IpAddress addr(const char* text) { return IpAddress::parse(text).value(); }

// IP 198.18.1.2.40000 > 198.18.2.2.8080: Flags [S], seq 1000000000, win 64240,
//   options [mss 1460,sackOK,TS val 12345 ecr 0,nop,wscale 7], length 0
const auto ipv4_syn = hex(
    "4500 003c 1234 4000 4006 995f c612 0102 "
    "c612 0202 9c40 1f90 3b9a ca00 0000 0000 "
    "a002 faf0 cc41 0000 0204 05b4 0402 080a "
    "0000 3039 0000 0000 0103 0307 ");

// IP 198.18.1.2.40000 > 198.18.2.2.8080: Flags [F.], seq 1000001001, ack 2000000001, win 502,
//   options [nop,nop,TS val 12400 ecr 54321], length 0
const auto ipv4_fin_ack = hex(
    "4500 0034 1234 4000 4006 9967 c612 0102 "
    "c612 0202 9c40 1f90 3b9a cde9 7735 9401 "
    "8011 01f6 1070 0000 0101 080a 0000 3070 "
    "0000 d431 ");

// IP6 fd00:2::2.8080 > fd00:1::2.40000: Flags [S.], seq 2000000000, ack 1000000001, win 64800,
//   options [mss 1440,sackOK,TS val 54321 ecr 12345,nop,wscale 7], length 0
const auto ipv6_syn_ack = hex(
    "6000 0000 0028 0640 fd00 0002 0000 0000 "
    "0000 0000 0000 0002 fd00 0001 0000 0000 "
    "0000 0000 0000 0002 1f90 9c40 7735 9400 "
    "3b9a ca01 a012 fd20 7fcd 0000 0204 05a0 "
    "0402 080a 0000 d431 0000 3039 0103 0307 ");

// IP 198.18.1.2.40000 > 198.18.2.2.8080: Flags [P.], seq 1000000001:1000000017, ack 2000000001,
//   win 502, options [nop,nop,TS val 12350 ecr 54321], length 16
const auto ipv4_data = hex(
    "4500 0044 1234 4000 4006 9957 c612 0102 "
    "c612 0202 9c40 1f90 3b9a ca01 7735 9401 "
    "8018 01f6 55be 0000 0101 080a 0000 303e "
    "0000 d431 6865 6c6c 6f2c 206c 6173 7461 "
    "636b 210a ");

// IP6 fd00:1::2 > fd00:2::2: HBH (rtalert: 0x0000) (padn) fd00:1::2.40000 > fd00:2::2.8080:
//   Flags [.], ack 2000000001, win 507, options [nop,nop,TS val 12350 ecr 54321], length 0
const auto ipv6_hop_by_hop_ack = hex(
    "6000 0000 0028 0040 fd00 0001 0000 0000 "
    "0000 0000 0000 0002 fd00 0002 0000 0000 "
    "0000 0000 0000 0002 0600 0502 0000 0100 "
    "9c40 1f90 3b9a ca01 7735 9401 8010 01fb "
    "a9a6 0000 0101 080a 0000 303e 0000 d431 ");

// IP6 fd00:1::2 > fd00:2::2: DSTOPT (padn) frag (0xabcd:0|16) fd00:1::2.40000 > fd00:2::2.8080:
//   Flags [.], ack 2000000001, win 507, length 0   (a first fragment: its TCP header is here)
const auto ipv6_dstopt_fragment_ack = hex(
    "6000 0000 0024 3c40 fd00 0001 0000 0000 "
    "0000 0000 0000 0002 fd00 0002 0000 0000 "
    "0000 0000 0000 0002 2c00 0104 0000 0000 "
    "0600 0001 0000 abcd 9c40 1f90 3b9a ca01 "
    "7735 9401 5010 01fb e72d 0000 ");

// IP 198.18.2.2.8080 > 198.18.1.2.40000: Flags [.], seq 2000000001:2000001449, ack 1000000001,
//   win 509, options [nop,nop,TS val 54400 ecr 12350], length 1448
// captured: the first 52 of 1500 octets (NFQUEUE copy range = headers only)
const auto ipv4_data_headers_only = hex(
    "4500 05dc 1234 4000 4006 93bf c612 0202 "
    "c612 0102 1f90 9c40 7735 9401 3b9a ca01 "
    "8010 01fd 0e8d 0000 0101 080a 0000 d480 "
    "0000 303e ");

// IP 198.18.2.2.8080 > 198.18.1.2.40000: Flags [.], ack 1000001001, win 509, options [nop,nop,
//   TS val 54400 ecr 12350,nop,nop,sack 2 {1000002449:1000003897}{1000005345:1000006793}], length 0
const auto ipv4_sack = hex(
    "4500 0048 1234 4000 4006 9953 c612 0202 "
    "c612 0102 1f90 9c40 7735 9401 3b9a cde9 "
    "d010 01fd 5b85 0000 0101 080a 0000 d480 "
    "0000 303e 0101 0512 3b9a d391 3b9a d939 "
    "3b9a dee1 3b9a e489 ");

// IP 198.18.1.2.5353 > 198.18.2.2.5353: UDP, length 4
const auto ipv4_udp = hex(
    "4500 0020 1234 4000 4011 9970 c612 0102 "
    "c612 0202 14e9 14e9 000c 0000 6162 6364 ");

/// A copy of `bytes` with one octet replaced.
std::vector<std::uint8_t> with_byte(std::vector<std::uint8_t> bytes, std::size_t at, std::uint8_t value) {
  bytes.at(at) = value;
  return bytes;
}

/// parse_segment's ParseError message for `bytes`, or "" when it parsed.
std::string parse_error(const std::vector<std::uint8_t>& bytes) {
  try {
    parse_segment(bytes);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("an IPv4 SYN yields addresses, ports, ISN and every handshake option", "[segment]") {
  const Segment s = parse_segment(ipv4_syn);
  CHECK(s.src == addr("198.18.1.2"));
  CHECK(s.dst == addr("198.18.2.2"));
  CHECK(s.sport == 40000);
  CHECK(s.dport == 8080);
  CHECK(s.seq == SeqNum(1000000000));
  CHECK(s.flags.bits == TcpFlags::SYN);
  CHECK(s.window == 64240);
  CHECK(s.options.mss == std::optional<std::uint16_t>(1460));
  CHECK(s.options.sack_permitted);
  CHECK(s.options.ts_val == std::optional<std::uint32_t>(12345));
  CHECK(s.options.ts_ecr == std::optional<std::uint32_t>(0));
  CHECK(s.options.window_scale == std::optional<std::uint8_t>(7));
  CHECK(s.options.sack_blocks == 0);
  CHECK(s.ip_header_len == 20);
  CHECK(s.tcp_header_len == 40);
  CHECK(s.payload_len == 0);
  CHECK(s.seq_space() == 1);
  CHECK(s.seq_end() == SeqNum(1000000001));
}

TEST_CASE("an IPv4 FIN+ACK carries one octet of sequence space and only timestamps", "[segment]") {
  const Segment s = parse_segment(ipv4_fin_ack);
  CHECK(s.flags.bits == (TcpFlags::FIN | TcpFlags::ACK));
  CHECK(s.seq == SeqNum(1000001001));
  CHECK(s.ack == SeqNum(2000000001));
  CHECK(s.window == 502);
  CHECK_FALSE(s.options.mss);
  CHECK_FALSE(s.options.window_scale);
  CHECK_FALSE(s.options.sack_permitted);
  CHECK(s.options.ts_val == std::optional<std::uint32_t>(12400));
  CHECK(s.options.ts_ecr == std::optional<std::uint32_t>(54321));
  CHECK(s.tcp_header_len == 32);
  CHECK(s.payload_len == 0);
  CHECK(s.seq_space() == 1);
}

TEST_CASE("an IPv6 SYN-ACK yields its addresses and options", "[segment]") {
  const Segment s = parse_segment(ipv6_syn_ack);
  CHECK(s.src.family == IpFamily::v6);
  CHECK(s.src.str() == "fd00:2::2");
  CHECK(s.dst.str() == "fd00:1::2");
  CHECK(s.sport == 8080);
  CHECK(s.dport == 40000);
  CHECK(s.seq == SeqNum(2000000000));
  CHECK(s.ack == SeqNum(1000000001));
  CHECK(s.flags.bits == (TcpFlags::SYN | TcpFlags::ACK));
  CHECK(s.options.mss == std::optional<std::uint16_t>(1440));
  CHECK(s.options.window_scale == std::optional<std::uint8_t>(7));
  CHECK(s.ip_header_len == 40);
  CHECK(s.tcp_header_len == 40);
  CHECK(s.payload_len == 0);
}

TEST_CASE("a data segment's payload length comes from the IP total length", "[segment]") {
  const Segment s = parse_segment(ipv4_data);
  CHECK(s.flags.bits == (TcpFlags::PSH | TcpFlags::ACK));
  CHECK(s.payload_len == 16);
  CHECK(s.seq_space() == 16);
  CHECK(s.seq_end() == SeqNum(1000000017));
}

TEST_CASE("an IPv6 hop-by-hop header is skipped and counted in the IP header length", "[segment]") {
  const Segment s = parse_segment(ipv6_hop_by_hop_ack);
  CHECK(s.ip_header_len == 48);
  CHECK(s.sport == 40000);
  CHECK(s.flags.bits == TcpFlags::ACK);
  CHECK(s.ack == SeqNum(2000000001));
  CHECK(s.options.ts_val == std::optional<std::uint32_t>(12350));
  CHECK(s.payload_len == 0);
}

TEST_CASE("IPv6 destination options and a first-fragment header are skipped", "[segment]") {
  const Segment s = parse_segment(ipv6_dstopt_fragment_ack);
  CHECK(s.ip_header_len == 56);
  CHECK(s.tcp_header_len == 20);
  CHECK(s.dport == 8080);
  CHECK(s.payload_len == 0);
}

TEST_CASE("a capture truncated after the TCP header still reports the full payload length", "[segment]") {
  REQUIRE(ipv4_data_headers_only.size() == 52);
  const Segment s = parse_segment(ipv4_data_headers_only);
  CHECK(s.payload_len == 1448);
  CHECK(s.seq_end() == SeqNum(2000001449));
}

TEST_CASE("SACK blocks are counted", "[segment]") {
  const Segment s = parse_segment(ipv4_sack);
  CHECK(s.options.sack_blocks == 2);
  CHECK(s.options.ts_val == std::optional<std::uint32_t>(54400));
  CHECK(s.tcp_header_len == 52);
}

TEST_CASE("malformed IP headers throw ParseError", "[segment]") {
  SECTION("empty") { CHECK(parse_error({}) == "empty packet"); }
  SECTION("shorter than an IPv4 header") {
    const std::vector<std::uint8_t> first_ten(ipv4_syn.begin(), ipv4_syn.begin() + 10);
    CHECK(parse_error(first_ten) == "IPv4 header truncated: need 2 bytes at offset 10, only 0 left");
  }
  SECTION("IHL below 5") {
    CHECK(parse_error(with_byte(ipv4_syn, 0, 0x44)) == "IPv4 header length 16 is below the minimum 20 (bad IHL 4)");
  }
  SECTION("IHL larger than the captured bytes") {
    const std::vector<std::uint8_t> first_forty(ipv4_syn.begin(), ipv4_syn.begin() + 40);
    CHECK_THROWS_AS(parse_segment(with_byte(first_forty, 0, 0x4f)), ParseError);
  }
  SECTION("total length shorter than the header") {
    CHECK(parse_error(with_byte(ipv4_syn, 3, 0x10)) == "IPv4 total length 16 is shorter than its header (20)");
  }
  SECTION("not IP at all") { CHECK(parse_error(with_byte(ipv4_syn, 0, 0x55)) == "not an IP packet: version 5"); }
  SECTION("IPv6 header cut short") {
    const std::vector<std::uint8_t> first_thirty(ipv6_syn_ack.begin(), ipv6_syn_ack.begin() + 30);
    CHECK_THROWS_AS(parse_segment(first_thirty), ParseError);
  }
  SECTION("IPv6 extension header cut short") {
    const std::vector<std::uint8_t> cut(ipv6_hop_by_hop_ack.begin(), ipv6_hop_by_hop_ack.begin() + 44);
    CHECK(parse_error(cut) == "IPv6 hop-by-hop options header truncated: need 6 bytes at offset 2, only 2 left");
  }
}

TEST_CASE("non-TCP packets throw ParseError", "[segment]") {
  CHECK(parse_error(ipv4_udp) == "not TCP: IPv4 carries UDP");
  CHECK(parse_error(with_byte(ipv6_syn_ack, 6, 58)) == "not TCP: IPv6 carries ICMPv6");
  CHECK(parse_error(with_byte(ipv6_syn_ack, 6, 59)) == "not TCP: IPv6 next header is 59 (no next header)");
}

TEST_CASE("non-first fragments throw ParseError: they carry no TCP header", "[segment]") {
  // Fragment offset 16 (x8 = 128 octets) in the IPv4 flags/offset word.
  CHECK(parse_error(with_byte(ipv4_syn, 7, 0x10)) ==
        "IPv4 non-first fragment (offset 128 octets) carries no TCP header");
  // Fragment offset 1 (x8 = 8 octets) in the IPv6 fragment header.
  CHECK(parse_error(with_byte(ipv6_dstopt_fragment_ack, 51, 0x08)) ==
        "IPv6 non-first fragment (offset 8 octets) carries no TCP header");
}

TEST_CASE("malformed TCP headers throw ParseError", "[segment]") {
  SECTION("data offset below 5") {
    CHECK(parse_error(with_byte(ipv4_syn, 32, 0x40)) == "TCP data offset 4 is below the minimum 5");
  }
  SECTION("data offset beyond the IP length") {
    CHECK(parse_error(with_byte(ipv4_syn, 32, 0xf0)) ==
          "TCP header length 60 exceeds the 40 octets the IP header gives it");
  }
  SECTION("TCP header cut short") {
    const std::vector<std::uint8_t> cut(ipv4_syn.begin(), ipv4_syn.begin() + 30);
    CHECK(parse_error(cut) == "TCP header truncated: need 4 bytes at offset 8, only 2 left");
  }
  SECTION("options cut short") {
    const std::vector<std::uint8_t> cut(ipv4_syn.begin(), ipv4_syn.begin() + 50);
    CHECK(parse_error(cut) == "TCP header truncated: need 20 bytes at offset 20, only 10 left");
  }
  SECTION("option length below 2") {
    CHECK(parse_error(with_byte(ipv4_syn, 41, 0x01)) == "TCP option kind 2 has length 1, below 2");
  }
  SECTION("option running past the header") {
    CHECK(parse_error(with_byte(ipv4_syn, 58, 0x09)) ==
          "TCP options truncated: need 7 bytes at offset 19, only 1 left");
  }
  SECTION("known option with the wrong length") {
    CHECK(parse_error(with_byte(ipv4_syn, 41, 0x02)) == "TCP option MSS (kind 2) has length 2, expected 4");
  }
}

TEST_CASE("ByteReader reads big-endian and refuses to overrun", "[segment]") {
  const std::vector<std::uint8_t> bytes = {0x12, 0x34, 0x56, 0x78, 0x9a};
  ByteReader r(bytes, "test bytes");
  CHECK(r.u16() == 0x1234);
  CHECK(r.remaining() == 3);
  ByteReader rest = r.sub(3, "tail");
  CHECK(r.remaining() == 0);
  CHECK(rest.u8() == 0x56);
  CHECK_THROWS_WITH(rest.u32(), "tail truncated: need 4 bytes at offset 1, only 2 left");
  rest.skip(2);
  CHECK(rest.remaining() == 0);
}

TEST_CASE("IpAddress parses and prints IPv4 and RFC 5952 IPv6 text", "[segment]") {
  CHECK(addr("198.18.1.2").str() == "198.18.1.2");
  CHECK(addr("198.18.1.2").family == IpFamily::v4);
  CHECK(addr("fd00:0:0:0:0:0:0:1").str() == "fd00::1");
  CHECK(addr("2001:db8:0:0:1:0:0:1").str() == "2001:db8::1:0:0:1");  // first of two equal runs
  CHECK(addr("2001:db8:0:1:1:1:1:1").str() == "2001:db8:0:1:1:1:1:1");  // a lone zero stays
  CHECK(addr("::").str() == "::");
  CHECK(addr("::1").str() == "::1");
  CHECK(addr("FD00:1::2").str() == "fd00:1::2");
  CHECK(addr("::ffff:198.18.1.2").str() == "::ffff:198.18.1.2");
  CHECK_FALSE(IpAddress::parse("198.18.1"));
  CHECK_FALSE(IpAddress::parse("fd00::1::2"));
  CHECK_FALSE(IpAddress::parse("client"));
  CHECK(addr("198.18.1.2") != addr("198.18.1.3"));
}

TEST_CASE("TCP flags spell as tcpdump and Wireshark do", "[segment]") {
  const auto flags = [](std::uint8_t bits) { return TcpFlags{bits}; };
  using F = TcpFlags;
  CHECK(flags(F::SYN).tcpdump() == "S");
  CHECK(flags(F::SYN | F::ACK).tcpdump() == "S.");
  CHECK(flags(F::ACK).tcpdump() == ".");
  CHECK(flags(F::PSH | F::ACK).tcpdump() == "P.");
  CHECK(flags(F::FIN | F::ACK).tcpdump() == "F.");
  CHECK(flags(F::FIN | F::PSH | F::ACK).tcpdump() == "FP.");
  CHECK(flags(F::RST).tcpdump() == "R");
  CHECK(flags(F::RST | F::ACK).tcpdump() == "R.");
  CHECK(flags(F::SYN | F::ECE | F::CWR).tcpdump() == "SEW");
  CHECK(flags(0).tcpdump() == "none");
  CHECK(flags(F::SYN | F::ACK).names() == "SYN, ACK");
  CHECK(flags(F::FIN | F::PSH | F::ACK).names() == "FIN, PSH, ACK");
  CHECK(flags(F::RST).names() == "RST");
  CHECK(flags(F::ACK).names() == "ACK");
}

TEST_CASE("SeqNum compares across the 2^32 wrap", "[segment]") {
  const SeqNum near_top(0xfffffff0u);
  const SeqNum wrapped = near_top + 0x20;
  CHECK(wrapped.raw() == 0x10);
  CHECK(wrapped.after(near_top));
  CHECK(near_top.before(wrapped));
  CHECK(wrapped - near_top == 0x20);
  CHECK(near_top - wrapped == -0x20);
  CHECK(wrapped.at_or_after(wrapped));
  CHECK_FALSE(near_top.at_or_after(wrapped));
}

TEST_CASE("loopback addresses are 127.0.0.0/8, ::1 and IPv4-mapped 127.x, never the lab's", "[segment]") {
  for (const char* text : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"}) {
    INFO(text);
    CHECK(IpAddress::parse(text)->loopback());
  }
  for (const char* text : {"198.18.2.2", "0.0.0.0", "::", "fd00:2::2", "::ffff:198.18.2.2", "::2"}) {
    INFO(text);
    CHECK_FALSE(IpAddress::parse(text)->loopback());
  }
}
