#include "harness/sys/net/rtnetlink.hpp"

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "lastack/error.hpp"
#include "harness/sys/net/sysctl.hpp"

namespace lastack::sys {

namespace {

// Without DAD an address settles in microseconds; seconds mean it is waiting for carrier or DAD.
constexpr auto address_settle_timeout = std::chrono::seconds(2);
// Deferred carrier work runs within milliseconds; seconds mean the peer is down.
constexpr auto link_running_timeout = std::chrono::seconds(2);

int address_family(const IpAddress& addr) { return addr.family == IpFamily::v4 ? AF_INET : AF_INET6; }
std::size_t address_size(const IpAddress& addr) { return addr.family == IpFamily::v4 ? 4 : 16; }

/// A request buffer with its netlink header in place.
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

/// Call `fn` for each attribute of `message` that follows its `offset`-byte family header.
template <typename F>
void for_each_attribute(const nlmsghdr& message, std::size_t offset, F&& fn) {
  const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(&message));
  for (auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(&message, offset));
       mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr))); attr = mnl_attr_next(attr))
    fn(*attr);
}

/// The kernel's own words from an extended ACK (NLMSGERR_ATTR_MSG), or "".
std::string extended_ack_message(const nlmsghdr& reply) {
  if (!(reply.nlmsg_flags & NLM_F_ACK_TLVS)) return "";
  std::string message;
  // With NETLINK_CAP_ACK the TLVs follow the nlmsgerr, which quotes only the request's header.
  for_each_attribute(reply, sizeof(nlmsgerr), [&](const nlattr& attr) {
    if (mnl_attr_get_type(&attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(&attr, MNL_TYPE_NUL_STRING) == 0)
      message = mnl_attr_get_str(&attr);
  });
  return message;
}

/// A failed request: "operation: strerror (kernel explanation)".
[[noreturn]] void throw_request_error(const std::string& operation, int error, const std::string& explanation) {
  std::string what = operation + ": " + std::strerror(error);
  if (!explanation.empty()) what += " (" + explanation + ")";
  throw HarnessError(what);
}

}  // namespace

Rtnetlink Rtnetlink::open_in(const NetNamespace& ns) {
  NetnsScope scope(ns);
  mnl_socket* socket = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (socket == nullptr) throw_errno("open an rtnetlink socket");
  Rtnetlink rtnl(socket, NetNamespace::current());
  int on = 1;
  // Errors then quote only the request's header, plus the kernel's explanation when it has one.
  mnl_socket_setsockopt(socket, NETLINK_CAP_ACK, &on, sizeof on);
  mnl_socket_setsockopt(socket, NETLINK_EXT_ACK, &on, sizeof on);
  if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) != 0) throw_errno("bind an rtnetlink socket");
  rtnl.port_id_ = mnl_socket_get_portid(socket);
  return rtnl;
}

Rtnetlink::Rtnetlink(mnl_socket* socket, NetNamespace ns) : socket_(socket), ns_(std::move(ns)) {}

Rtnetlink::Rtnetlink(Rtnetlink&& other) noexcept
    : socket_(std::exchange(other.socket_, nullptr)),
      ns_(std::move(other.ns_)),
      port_id_(other.port_id_),
      sequence_(other.sequence_) {}

Rtnetlink& Rtnetlink::operator=(Rtnetlink&& other) noexcept {
  if (this != &other) {
    if (socket_ != nullptr) mnl_socket_close(socket_);
    socket_ = std::exchange(other.socket_, nullptr);
    ns_ = std::move(other.ns_);
    port_id_ = other.port_id_;
    sequence_ = other.sequence_;
  }
  return *this;
}

Rtnetlink::~Rtnetlink() {
  if (socket_ != nullptr) mnl_socket_close(socket_);
}

void Rtnetlink::request(nlmsghdr* message, const std::string& operation, const ReplyHandler& on_reply) {
  const bool dump = (message->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  if (!dump) message->nlmsg_flags |= NLM_F_ACK;  // a dump ends with NLMSG_DONE instead
  message->nlmsg_seq = ++sequence_;
  if (mnl_socket_sendto(socket_, message, message->nlmsg_len) < 0) throw_errno(("rtnetlink " + operation).c_str());

  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  for (;;) {
    const ssize_t received = mnl_socket_recvfrom(socket_, buffer.data(), buffer.size());
    if (received < 0) {
      if (errno == EINTR) continue;
      throw_errno(("rtnetlink " + operation + ": receive").c_str());
    }
    int remaining = static_cast<int>(received);
    for (auto* reply = reinterpret_cast<const nlmsghdr*>(buffer.data()); mnl_nlmsg_ok(reply, remaining);
         reply = mnl_nlmsg_next(reply, &remaining)) {
      if (reply->nlmsg_seq != sequence_ || reply->nlmsg_pid != port_id_) continue;  // not ours
      if (reply->nlmsg_type == NLMSG_ERROR) {
        const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(reply));
        if (error->error == 0) return;  // the acknowledgement
        throw_request_error(operation, -error->error, extended_ack_message(*reply));
      }
      if (reply->nlmsg_type == NLMSG_DONE) {
        const int error = *static_cast<const int*>(mnl_nlmsg_get_payload(reply));
        if (error < 0) throw_request_error(operation, -error, "");
        return;
      }
      if (on_reply) on_reply(*reply);
    }
  }
}

void Rtnetlink::create_veth(const std::string& name, const std::string& peer_name, const NetNamespace& peer_ns,
                            std::uint32_t mtu) {
  Message message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  nlmsghdr* nlh = message.header();
  message.put_extra_header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
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
  mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
  mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<std::uint32_t>(peer_ns.fd()));
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, info_data);
  mnl_attr_nest_end(nlh, link_info);
  request(nlh, "create veth " + name + " <-> " + peer_name);
  // Before the links first come up, which is when their link-local addresses are made.
  write_sysctl(ns_, "net.ipv6.conf." + name + ".accept_dad", "0");
  write_sysctl(peer_ns, "net.ipv6.conf." + peer_name + ".accept_dad", "0");
}

void Rtnetlink::set_mtu(const std::string& ifname, std::uint32_t mtu) {
  Message message(RTM_NEWLINK, 0);
  nlmsghdr* nlh = message.header();
  auto* info = message.put_extra_header<ifinfomsg>();
  info->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname.c_str());  // without NLM_F_CREATE: find by name
  mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
  request(nlh, "set link " + ifname + " mtu " + std::to_string(mtu));
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
  if (addr.family == IpFamily::v6) wait_for_ipv6_address(index, ifname, addr);
}

void Rtnetlink::wait_for_ipv6_address(unsigned index, const std::string& ifname, const IpAddress& addr) {
  // The kernel finishes an IPv6 address in a work item, DAD or not: until then it has not joined
  // the solicited-node group nor routed the address locally, and the first neighbour
  // solicitation is lost (retried after 1 s). The local route is the work's last step.
  const auto deadline = std::chrono::steady_clock::now() + address_settle_timeout;
  while (!routes_locally(addr) || has_tentative_ipv6_address(index, ifname)) {
    if (std::chrono::steady_clock::now() > deadline)
      throw HarnessError("IPv6 address " + addr.str() + " on " + ifname +
                         " still not usable after 2 s: is the link up with carrier (both veth ends up)?");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

bool Rtnetlink::routes_locally(const IpAddress& addr) {
  Message message(RTM_GETROUTE, 0);
  nlmsghdr* nlh = message.header();
  auto* route = message.put_extra_header<rtmsg>();
  route->rtm_family = static_cast<std::uint8_t>(address_family(addr));
  route->rtm_dst_len = static_cast<std::uint8_t>(address_size(addr) * 8);
  mnl_attr_put(nlh, RTA_DST, address_size(addr), addr.bytes.data());
  bool local = false;
  request(nlh, "look up the route to " + addr.str(), [&](const nlmsghdr& reply) {
    if (reply.nlmsg_type == RTM_NEWROUTE)
      local = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(&reply))->rtm_type == RTN_LOCAL;
  });
  return local;
}

bool Rtnetlink::has_tentative_ipv6_address(unsigned index, const std::string& ifname) {
  Message message(RTM_GETADDR, NLM_F_DUMP);
  message.put_extra_header<ifaddrmsg>()->ifa_family = AF_INET6;
  bool tentative = false;
  request(message.header(), "list the IPv6 addresses of " + ifname, [&](const nlmsghdr& reply) {
    const auto* address = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(&reply));
    if (reply.nlmsg_type != RTM_NEWADDR || address->ifa_index != index) return;
    std::uint32_t flags = address->ifa_flags;
    for_each_attribute(reply, sizeof(ifaddrmsg), [&](const nlattr& attr) {
      if (mnl_attr_get_type(&attr) == IFA_FLAGS) flags = mnl_attr_get_u32(&attr);
    });
    if (flags & IFA_F_DADFAILED) throw HarnessError("an IPv6 address of " + ifname + " is a duplicate");
    if (flags & IFA_F_TENTATIVE) tentative = true;
  });
  return tentative;
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

unsigned Rtnetlink::ifindex(const std::string& ifname) { return link_state(ifname).index; }

Rtnetlink::LinkState Rtnetlink::link_state(const std::string& ifname) {
  Message message(RTM_GETLINK, 0);
  nlmsghdr* nlh = message.header();
  message.put_extra_header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname.c_str());
  mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  LinkState state;
  request(nlh, "look up link " + ifname, [&](const nlmsghdr& reply) {
    if (reply.nlmsg_type != RTM_NEWLINK) return;
    const auto* info = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(&reply));
    state.index = static_cast<unsigned>(info->ifi_index);
    state.flags = info->ifi_flags;
  });
  if (state.index == 0) throw HarnessError("look up link " + ifname + ": no index in the reply");
  return state;
}

void Rtnetlink::wait_until_running(const std::string& ifname) {
  const auto deadline = std::chrono::steady_clock::now() + link_running_timeout;
  while (!(link_state(ifname).flags & IFF_RUNNING)) {
    if (std::chrono::steady_clock::now() > deadline)
      throw HarnessError("link " + ifname + " is not running after 2 s: are both ends of its veth pair up?");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace lastack::sys
