#include "harness/sys/net/raw_injector.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "harness/core/wire/checksum.hpp"
#include "lastack/error.hpp"

namespace lastack::sys {

namespace {

constexpr std::uint8_t kProtocolTcp = 6;
constexpr std::size_t kTcpChecksumOffset = 16;

UniqueFd open_raw(int family, std::uint32_t mark) {
  UniqueFd fd(::socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
  if (!fd.valid()) {
    if (errno == EPERM || errno == EACCES)
      throw EnvironmentError("cannot open a raw socket (CAP_NET_RAW needed) to inject segments");
    throw_errno(family == AF_INET ? "socket(AF_INET, SOCK_RAW)" : "socket(AF_INET6, SOCK_RAW)");
  }
  if (mark != 0 && ::setsockopt(fd.get(), SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0) {
    if (errno == EPERM) throw EnvironmentError("cannot mark injected segments (SO_MARK needs CAP_NET_ADMIN)");
    throw_errno("setsockopt(SO_MARK)");
  }
  if (family == AF_INET6) {
    int one = 1;
    if (::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_HDRINCL, &one, sizeof one) != 0)
      throw_errno("setsockopt(IPV6_HDRINCL)");
  }
  return fd;
}

/// Fill in the TCP checksum of `tcp` given the pseudo-header's running sum.
void write_tcp_checksum(std::span<std::uint8_t> tcp, std::uint32_t pseudo_sum) {
  if (tcp.size() < kTcpChecksumOffset + 2) throw HarnessError("inject: TCP header cut short");
  tcp[kTcpChecksumOffset] = 0;
  tcp[kTcpChecksumOffset + 1] = 0;
  std::uint16_t sum = checksum_fold(checksum_add(pseudo_sum, tcp));
  tcp[kTcpChecksumOffset] = static_cast<std::uint8_t>(sum >> 8);
  tcp[kTcpChecksumOffset + 1] = static_cast<std::uint8_t>(sum & 0xff);
}

void send_packet(int fd, std::span<const std::uint8_t> packet, const sockaddr* to, socklen_t to_len) {
  ssize_t sent = ::sendto(fd, packet.data(), packet.size(), 0, to, to_len);
  if (sent < 0) throw_errno("inject: sendto(raw)");
  if (static_cast<std::size_t>(sent) != packet.size()) throw HarnessError("inject: short send on a raw socket");
}

}  // namespace

RawInjector RawInjector::open_in(const NetNamespace& ns, std::uint32_t mark) {
  NetnsScope in_ns(ns);
  return RawInjector(open_raw(AF_INET, mark), open_raw(AF_INET6, mark));
}

std::span<const std::uint8_t> RawInjector::inject(std::span<const std::uint8_t> ip_packet) {
  if (ip_packet.empty()) throw HarnessError("inject: empty packet");
  const unsigned version = ip_packet[0] >> 4;
  if (version == 4) {
    if (ip_packet.size() < 20) throw HarnessError("inject: IPv4 header cut short");
    const std::size_t header_len = (ip_packet[0] & 0x0f) * 4u;
    const std::size_t total_len = static_cast<std::size_t>((ip_packet[2] << 8) | ip_packet[3]);
    if (header_len < 20 || total_len < header_len || ip_packet.size() < total_len)
      throw HarnessError("inject: IPv4 packet truncated (" + std::to_string(ip_packet.size()) + " of " +
                         std::to_string(total_len) + " bytes): copy the whole packet to duplicate it");
    scratch_.assign(ip_packet.begin(), ip_packet.begin() + static_cast<std::ptrdiff_t>(total_len));
    const bool fragment = ((ip_packet[6] & 0x3f) | ip_packet[7]) != 0;  // MF or an offset
    if (ip_packet[9] == kProtocolTcp && !fragment) {
      std::uint32_t pseudo = checksum_add(0, std::span(scratch_).subspan(12, 8));
      pseudo += kProtocolTcp + static_cast<std::uint32_t>(total_len - header_len);
      write_tcp_checksum(std::span(scratch_).subspan(header_len), pseudo);
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    std::memcpy(&to.sin_addr, scratch_.data() + 16, 4);
    send_packet(v4_.get(), scratch_, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    return scratch_;
  }
  if (version == 6) {
    constexpr std::size_t header_len = 40;
    if (ip_packet.size() < header_len) throw HarnessError("inject: IPv6 header cut short");
    const std::size_t payload_len = static_cast<std::size_t>((ip_packet[4] << 8) | ip_packet[5]);
    if (ip_packet.size() < header_len + payload_len)
      throw HarnessError("inject: IPv6 packet truncated (" + std::to_string(ip_packet.size()) + " of " +
                         std::to_string(header_len + payload_len) +
                         " bytes): copy the whole packet to duplicate it");
    scratch_.assign(ip_packet.begin(), ip_packet.begin() + static_cast<std::ptrdiff_t>(header_len + payload_len));
    // Only TCP right after the fixed header: extension headers would move the pseudo-header's inputs.
    if (ip_packet[6] == kProtocolTcp) {
      std::uint32_t pseudo = checksum_add(0, std::span(scratch_).subspan(8, 32));
      pseudo += kProtocolTcp + static_cast<std::uint32_t>(payload_len);
      write_tcp_checksum(std::span(scratch_).subspan(header_len), pseudo);
    }
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    std::memcpy(&to.sin6_addr, scratch_.data() + 24, 16);
    send_packet(v6_.get(), scratch_, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    return scratch_;
  }
  throw HarnessError("inject: not an IPv4 or IPv6 packet (version " + std::to_string(version) + ")");
}

}  // namespace lastack::sys
