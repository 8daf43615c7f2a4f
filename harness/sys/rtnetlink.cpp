#include "harness/sys/rtnetlink.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "harness/core/error.hpp"

namespace lastack::sys {

namespace {

constexpr std::uint32_t lab_mtu = 1500;

int address_family(const IpAddress& addr) { return addr.family == IpFamily::v4 ? AF_INET : AF_INET6; }
std::size_t address_size(const IpAddress& addr) { return addr.family == IpFamily::v4 ? 4 : 16; }

/// A message buffer with its netlink header in place.
class Message {
 public:
  Message(std::uint16_t type, std::uint16_t flags) : buffer_(MNL_SOCKET_BUFFER_SIZE) {
    header_ = mnl_nlmsg_put_header(buffer_.data());
    header_->nlmsg_type = type;
    header_->nlmsg_flags = NLM_F_REQUEST | flags;
  }
  nlmsghdr* header() { return header_; }
  template <typename T>
  T* put_extra_header() {
    return static_cast<T*>(mnl_nlmsg_put_extra_header(header_, sizeof(T)));
  }

 private:
  std::vector<char> buffer_;
  nlmsghdr* header_;
};

/// The kernel's own words from an extended ACK (NLMSGERR_ATTR_MSG), or "".
std::string extended_ack_message(const nlmsghdr* reply) {
  if (!(reply->nlmsg_flags & NLM_F_ACK_TLVS)) return "";
  // With NETLINK_CAP_ACK the TLVs follow the nlmsgerr, which quotes only the request's header.
  const unsigned offset = sizeof(nlmsgerr);
  std::string message;
  const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(reply));
  for (auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(reply, offset));
       mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr))); attr = mnl_attr_next(attr)) {
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
      message = mnl_attr_get_str(attr);
  }
  return message;
}

}  // namespace

struct Rtnetlink::Reply {
  int ifindex = 0;  // from an RTM_NEWLINK reply to RTM_GETLINK
};

Rtnetlink Rtnetlink::open_in(const NetNamespace& ns) {
  NetnsScope scope(ns);
  mnl_socket* socket = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (socket == nullptr) throw_errno("open an rtnetlink socket");
  Rtnetlink rtnl(socket);
  const int on = 1;
  // Errors then quote only the request's header, plus the kernel's explanation when it has one.
  mnl_socket_setsockopt(socket, NETLINK_CAP_ACK, const_cast<int*>(&on), sizeof on);
  mnl_socket_setsockopt(socket, NETLINK_EXT_ACK, const_cast<int*>(&on), sizeof on);
  if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) != 0) throw_errno("bind an rtnetlink socket");
  rtnl.port_id_ = mnl_socket_get_portid(socket);
  return rtnl;
}

Rtnetlink::Rtnetlink(mnl_socket* socket) : socket_(socket) {}

Rtnetlink::Rtnetlink(Rtnetlink&& other) noexcept
    : socket_(std::exchange(other.socket_, nullptr)), port_id_(other.port_id_), sequence_(other.sequence_) {}

Rtnetlink& Rtnetlink::operator=(Rtnetlink&& other) noexcept {
  if (this != &other) {
    if (socket_ != nullptr) mnl_socket_close(socket_);
    socket_ = std::exchange(other.socket_, nullptr);
    port_id_ = other.port_id_;
    sequence_ = other.sequence_;
  }
  return *this;
}

Rtnetlink::~Rtnetlink() {
  if (socket_ != nullptr) mnl_socket_close(socket_);
}

Rtnetlink::Reply Rtnetlink::request(void* message, const std::string& operation) {
  auto* header = static_cast<nlmsghdr*>(message);
  header->nlmsg_flags |= NLM_F_ACK;
  header->nlmsg_seq = ++sequence_;
  if (mnl_socket_sendto(socket_, header, header->nlmsg_len) < 0) throw_errno(("rtnetlink " + operation).c_str());

  Reply reply;
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  for (;;) {
    const ssize_t received = mnl_socket_recvfrom(socket_, buffer.data(), buffer.size());
    if (received < 0) {
      if (errno == EINTR) continue;
      throw_errno(("rtnetlink " + operation + ": receive").c_str());
    }
    int remaining = static_cast<int>(received);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buffer.data()); mnl_nlmsg_ok(nlh, remaining);
         nlh = mnl_nlmsg_next(nlh, &remaining)) {
      if (nlh->nlmsg_seq != sequence_ || nlh->nlmsg_pid != port_id_) continue;  // not ours
      if (nlh->nlmsg_type == RTM_NEWLINK) {
        reply.ifindex = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh))->ifi_index;
      } else if (nlh->nlmsg_type == NLMSG_ERROR) {
        const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        if (error->error == 0) return reply;  // the acknowledgement
        std::string what = operation + ": " + std::strerror(-error->error);
        const std::string explanation = extended_ack_message(nlh);
        if (!explanation.empty()) what += " (" + explanation + ")";
        throw HarnessError(what);
      }
    }
  }
}

void Rtnetlink::create_veth(const std::string& name, const std::string& peer_name, const NetNamespace& peer_ns) {
  Message message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  nlmsghdr* nlh = message.header();
  message.put_extra_header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  mnl_attr_put_u32(nlh, IFLA_MTU, lab_mtu);
  nlattr* link_info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  nlattr* info_data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  nlattr* peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  // VETH_INFO_PEER carries a whole link request: an ifinfomsg, then the peer's attributes.
  auto* peer_info = static_cast<ifinfomsg*>(mnl_nlmsg_get_payload_tail(nlh));
  std::memset(peer_info, 0, sizeof *peer_info);
  peer_info->ifi_family = AF_UNSPEC;
  nlh->nlmsg_len += MNL_ALIGN(sizeof *peer_info);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_name.c_str());
  mnl_attr_put_u32(nlh, IFLA_MTU, lab_mtu);
  mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<std::uint32_t>(peer_ns.fd()));
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, info_data);
  mnl_attr_nest_end(nlh, link_info);
  request(nlh, "create veth " + name + " <-> " + peer_name);
}

void Rtnetlink::set_up(const std::string& ifname) {
  Message message(RTM_NEWLINK, 0);
  nlmsghdr* nlh = message.header();
  auto* info = message.put_extra_header<ifinfomsg>();
  info->ifi_family = AF_UNSPEC;
  info->ifi_flags = IFF_UP;
  info->ifi_change = IFF_UP;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname.c_str());  // without NLM_F_CREATE: find by name
  request(nlh, "set link " + ifname + " up");
}

void Rtnetlink::add_address(const std::string& ifname, const IpAddress& addr, unsigned prefix_len) {
  const unsigned index = ifindex(ifname);
  Message message(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  nlmsghdr* nlh = message.header();
  auto* info = message.put_extra_header<ifaddrmsg>();
  info->ifa_family = static_cast<std::uint8_t>(address_family(addr));
  info->ifa_prefixlen = static_cast<std::uint8_t>(prefix_len);
  info->ifa_scope = RT_SCOPE_UNIVERSE;
  info->ifa_index = index;
  // No DAD: the address is usable at once instead of after about a second of probing.
  const std::uint32_t flags = addr.family == IpFamily::v6 ? IFA_F_NODAD : 0;
  info->ifa_flags = static_cast<std::uint8_t>(flags);
  mnl_attr_put(nlh, IFA_LOCAL, address_size(addr), addr.bytes.data());
  mnl_attr_put(nlh, IFA_ADDRESS, address_size(addr), addr.bytes.data());
  mnl_attr_put_u32(nlh, IFA_FLAGS, flags);
  request(nlh, "add address " + addr.str() + "/" + std::to_string(prefix_len) + " to " + ifname);
}

void Rtnetlink::add_default_route(const IpAddress& gateway) {
  Message message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  nlmsghdr* nlh = message.header();
  auto* route = message.put_extra_header<rtmsg>();
  route->rtm_family = static_cast<std::uint8_t>(address_family(gateway));
  route->rtm_dst_len = 0;
  route->rtm_table = RT_TABLE_MAIN;
  route->rtm_protocol = RTPROT_STATIC;
  route->rtm_scope = RT_SCOPE_UNIVERSE;
  route->rtm_type = RTN_UNICAST;
  mnl_attr_put(nlh, RTA_GATEWAY, address_size(gateway), gateway.bytes.data());
  request(nlh, "add default route via " + gateway.str());
}

unsigned Rtnetlink::ifindex(const std::string& ifname) {
  Message message(RTM_GETLINK, 0);
  nlmsghdr* nlh = message.header();
  message.put_extra_header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname.c_str());
  mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  const Reply reply = request(nlh, "look up link " + ifname);
  if (reply.ifindex <= 0) throw HarnessError("look up link " + ifname + ": no index in the reply");
  return static_cast<unsigned>(reply.ifindex);
}

}  // namespace lastack::sys
