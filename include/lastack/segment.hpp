#pragma once
// The packet model: one IPv4 or IPv6 TCP segment as parsed from the wire.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "lastack/seq.hpp"

namespace lastack {

enum class IpFamily : std::uint8_t { v4, v6 };

/// An IPv4 or IPv6 address; IPv4 uses the first 4 bytes.
struct IpAddress {
  IpFamily family = IpFamily::v4;
  std::array<std::uint8_t, 16> bytes{};

  /// Parse dotted-quad or RFC 5952 text; nullopt when it is neither.
  static std::optional<IpAddress> parse(const std::string& text);
  /// Dotted quad or compressed IPv6 text.
  std::string str() const;
  /// 127.0.0.0/8, ::1 or an IPv4-mapped 127.x address: reachable from its own namespace only.
  bool loopback() const;
  bool operator==(const IpAddress&) const = default;
};

/// The TCP header's flag bits.
struct TcpFlags {
  static constexpr std::uint8_t FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10,
                                URG = 0x20, ECE = 0x40, CWR = 0x80;
  std::uint8_t bits = 0;

  bool fin() const { return bits & FIN; }
  bool syn() const { return bits & SYN; }
  bool rst() const { return bits & RST; }
  bool psh() const { return bits & PSH; }
  bool ack() const { return bits & ACK; }
  /// tcpdump's spelling: "S", "S.", ".", "P.", "F.", "R", "R." ...
  std::string tcpdump() const;
  /// Wireshark's spelling: "SYN, ACK", "FIN, ACK", "ACK" ...
  std::string names() const;
};

/// The TCP options lastack reports.
struct TcpOptions {
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> window_scale;
  bool sack_permitted = false;
  std::optional<std::uint32_t> ts_val;
  std::optional<std::uint32_t> ts_ecr;
  std::uint8_t sack_blocks = 0;
};

/// One TCP segment: addresses, ports, sequence space and options.
struct Segment {
  IpAddress src, dst;
  std::uint16_t sport = 0, dport = 0;
  SeqNum seq, ack;
  TcpFlags flags;
  std::uint16_t window = 0;  // raw, unscaled
  TcpOptions options;
  std::uint16_t ip_header_len = 0;   // including IPv6 extension headers
  std::uint16_t tcp_header_len = 0;  // data offset * 4
  std::uint32_t payload_len = 0;

  /// Octets of sequence space the segment occupies: payload, plus one each for SYN and FIN.
  std::uint32_t seq_space() const { return payload_len + (flags.syn() ? 1 : 0) + (flags.fin() ? 1 : 0); }
  /// Sequence number just past this segment.
  SeqNum seq_end() const { return seq + seq_space(); }
};

/// Parse an IP packet (starting at the IPv4/IPv6 header) carrying TCP.
/// Only the headers must be present: the payload may be truncated (NFQUEUE copy range),
/// its length comes from the IP header. Throws ParseError on anything malformed.
Segment parse_segment(std::span<const std::uint8_t> packet);

}  // namespace lastack
