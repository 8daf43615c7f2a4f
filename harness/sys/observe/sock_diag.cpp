#include "harness/sys/observe/sock_diag.hpp"

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "lastack/error.hpp"

namespace lastack::sys {

namespace {

// Dumps come in datagrams of up to 32 KiB when the reader offers that much.
constexpr std::size_t kBufferBytes = 64 * 1024;
// TCP states 1 (ESTABLISHED) to 12 (NEW_SYN_RECV). Bit 13, TCP_BOUND_INACTIVE, would make the
// kernel walk the host-wide bind hash for sockets that are bound and nothing else.
constexpr std::uint32_t kTcpStates = ((1U << 13) - 1) & ~1U;
constexpr std::uint32_t kListen = 1U << static_cast<unsigned>(TcpState::LISTEN);

std::uint32_t state_mask(SocketStates states) {
  switch (states) {
    case SocketStates::all: return kTcpStates;
    case SocketStates::connections: return kTcpStates & ~kListen;
    case SocketStates::listeners: return kListen;
  }
  return kTcpStates;
}

std::uint8_t family_code(IpFamily family) { return family == IpFamily::v4 ? AF_INET : AF_INET6; }

IpAddress address_from(IpFamily family, const __be32 words[4]) {
  IpAddress a;
  a.family = family;
  std::memcpy(a.bytes.data(), words, family == IpFamily::v4 ? 4 : 16);
  return a;
}

void address_to(const IpAddress& a, __be32 words[4]) {
  std::memcpy(words, a.bytes.data(), a.family == IpFamily::v4 ? 4 : 16);
}

/// A request message: nlmsghdr + inet_diag_req_v2 for TCP over `family`.
struct DiagRequest {
  nlmsghdr header;
  inet_diag_req_v2 body;
};

DiagRequest make_request(std::uint16_t type, std::uint16_t flags, std::uint32_t seq, IpFamily family) {
  DiagRequest r{};
  r.header.nlmsg_len = sizeof r;
  r.header.nlmsg_type = type;
  r.header.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
  r.header.nlmsg_seq = seq;
  r.body.sdiag_family = family_code(family);
  r.body.sdiag_protocol = IPPROTO_TCP;
  r.body.idiag_states = kTcpStates;
  return r;
}

void send_request(int fd, const DiagRequest& r) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, &r, sizeof r, 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel) < 0)
    throw_errno("sendto(NETLINK_SOCK_DIAG)");
}

SocketSnapshot parse_socket(const nlmsghdr* nlh, IpFamily family) {
  if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(inet_diag_msg))
    throw HarnessError("sock_diag: message shorter than inet_diag_msg");
  auto* msg = static_cast<const inet_diag_msg*>(mnl_nlmsg_get_payload(nlh));
  SocketSnapshot s;
  s.local = address_from(family, msg->id.idiag_src);
  s.remote = address_from(family, msg->id.idiag_dst);
  s.local_port = ntohs(msg->id.idiag_sport);
  s.remote_port = ntohs(msg->id.idiag_dport);
  s.state = static_cast<TcpState>(msg->idiag_state);
  s.timer = msg->idiag_timer;
  s.expires = std::chrono::milliseconds(msg->idiag_expires);
  s.retrans = msg->idiag_retrans;
  s.cookie = {msg->id.idiag_cookie[0], msg->id.idiag_cookie[1]};

  auto remaining = static_cast<int>(nlh->nlmsg_len - MNL_ALIGN(MNL_NLMSG_HDRLEN + sizeof(inet_diag_msg)));
  auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(inet_diag_msg)));
  for (; mnl_attr_ok(attr, remaining); remaining -= MNL_ALIGN(attr->nla_len), attr = mnl_attr_next(attr)) {
    if (mnl_attr_get_type(attr) != INET_DIAG_INFO) continue;
    // Older or newer kernels send a shorter or longer tcp_info: take the common prefix.
    tcp_info info{};
    std::memcpy(&info, mnl_attr_get_payload(attr), std::min<std::size_t>(mnl_attr_get_payload_len(attr), sizeof info));
    s.info = TcpInfoSample{std::chrono::microseconds(info.tcpi_rto), info.tcpi_retransmits, info.tcpi_backoff,
                           info.tcpi_total_retrans, info.tcpi_unacked, std::chrono::microseconds(info.tcpi_rtt)};
  }
  return s;
}

}  // namespace

SockDiag::SockDiag(UniqueFd fd) : socket_(std::move(fd)), buffer_(kBufferBytes) {}

SockDiag SockDiag::open_in(const NetNamespace& ns) {
  NetnsScope in_ns(ns);
  UniqueFd fd(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!fd.valid()) throw_errno("socket(NETLINK_SOCK_DIAG)");
  // The kernel always answers at once; a silent socket means something is badly wrong.
  timeval timeout{5, 0};
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0)
    throw_errno("setsockopt(SO_RCVTIMEO)");
  return SockDiag(std::move(fd));
}

std::size_t SockDiag::receive_reply() {
  for (;;) {
    ssize_t n = ::recv(socket_.get(), buffer_.data(), buffer_.size(), 0);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) throw HarnessError("sock_diag: no answer from the kernel");
    throw_errno("recv(NETLINK_SOCK_DIAG)");
  }
}

std::vector<SocketSnapshot> SockDiag::dump(IpFamily family, SocketStates states) {
  std::vector<SocketSnapshot> out;
  dump_into(family, out, states);
  return out;
}

void SockDiag::dump_into(IpFamily family, std::vector<SocketSnapshot>& out, SocketStates states) {
  out.clear();
  DiagRequest request = make_request(SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, ++seq_, family);
  request.body.idiag_states = state_mask(states);
  request.body.idiag_ext = 1U << (INET_DIAG_INFO - 1);
  send_request(socket_.get(), request);
  for (;;) {
    auto len = static_cast<int>(receive_reply());
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buffer_.data()); mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_seq != seq_) continue;  // a late answer to an earlier request
      if (nlh->nlmsg_type == NLMSG_DONE) return;
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        throw HarnessError(std::string("sock_diag dump: ") + std::strerror(-err->error));
      }
      if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY) out.push_back(parse_socket(nlh, family));
    }
  }
}

bool SockDiag::destroy(const SocketSnapshot& s, IpFamily family) {
  DiagRequest request = make_request(SOCK_DESTROY, NLM_F_ACK, ++seq_, family);
  request.body.id.idiag_sport = htons(s.local_port);
  request.body.id.idiag_dport = htons(s.remote_port);
  address_to(s.local, request.body.id.idiag_src);
  address_to(s.remote, request.body.id.idiag_dst);
  request.body.id.idiag_cookie[0] = s.cookie[0];
  request.body.id.idiag_cookie[1] = s.cookie[1];
  send_request(socket_.get(), request);
  for (;;) {
    auto len = static_cast<int>(receive_reply());
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buffer_.data()); mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_seq != seq_ || nlh->nlmsg_type != NLMSG_ERROR) continue;
      const int error = -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh))->error;
      if (error == 0) return true;
      // ESTALE: the 4-tuple now belongs to a newer socket, so ours is gone too.
      if (error == ENOENT || error == ESTALE) return false;
      if (error == EOPNOTSUPP)
        throw EnvironmentError("sock_diag: this kernel cannot destroy sockets (CONFIG_INET_DIAG_DESTROY is off)");
      if (error == EPERM) throw EnvironmentError("sock_diag: destroying a socket needs CAP_NET_ADMIN");
      throw HarnessError(std::string("sock_diag destroy: ") + std::strerror(error));
    }
  }
}

}  // namespace lastack::sys
