#pragma once
// Building a lab's links, addresses and routes over rtnetlink (libmnl): one netlink round
// trip per step instead of a shell-out to `ip`.
#include <functional>
#include <string>

#include "lastack/segment.hpp"
#include "harness/sys/net/netns.hpp"

struct mnl_socket;
struct nlmsghdr;

namespace lastack::sys {

/// An NETLINK_ROUTE socket bound inside one network namespace; every request is acknowledged
/// and a failure throws HarnessError naming the operation and the kernel's reason.
class Rtnetlink {
 public:
  /// Open a socket in `ns`: it keeps acting there, whichever namespace the thread is in later.
  static Rtnetlink open_in(const NetNamespace& ns);

  Rtnetlink(Rtnetlink&& other) noexcept;
  Rtnetlink& operator=(Rtnetlink&& other) noexcept;
  Rtnetlink(const Rtnetlink&) = delete;
  Rtnetlink& operator=(const Rtnetlink&) = delete;
  ~Rtnetlink();

  /// Create a veth pair with this MTU, both ends down: `name` here, `peer_name` inside `peer_ns`.
  /// IPv6 duplicate address detection is off on both ends (a lab link has no duplicates, and
  /// DAD would hold the link-local address back for about 2 s).
  void create_veth(const std::string& name, const std::string& peer_name, const NetNamespace& peer_ns,
                   std::uint32_t mtu = 1500);
  /// Set a link's MTU ("lo" included: `lastack wrap` pins it).
  void set_mtu(const std::string& ifname, std::uint32_t mtu);
  /// Bring a link up ("lo" included).
  void set_up(const std::string& ifname);
  /// Wait until `ifname` passes traffic (IFF_RUNNING). A veth end brought up before its peer
  /// gets carrier from deferred kernel work and drops packets until then: call this for each
  /// lab link once both ends of every pair are up.
  void wait_until_running(const std::string& ifname);
  /// Add addr/prefix_len to a link. An IPv6 address skips duplicate address detection and, once
  /// the link has carrier (both veth ends up), is usable when this returns.
  void add_address(const std::string& ifname, const IpAddress& addr, unsigned prefix_len);
  /// Add the default route of addr's family via `gateway`, which must already be on-link
  /// (call after set_up and add_address).
  void add_default_route(const IpAddress& gateway);
  /// The interface index of `ifname` in this socket's namespace.
  unsigned ifindex(const std::string& ifname);

 private:
  Rtnetlink(mnl_socket* socket, NetNamespace ns);
  struct LinkState {
    unsigned index = 0;
    unsigned flags = 0;  // IFF_*
  };
  LinkState link_state(const std::string& ifname);
  using ReplyHandler = std::function<void(const nlmsghdr&)>;
  /// Send one request and pass each reply to `on_reply`, until the acknowledgement (or, for a
  /// dump, the end of it).
  void request(nlmsghdr* message, const std::string& operation, const ReplyHandler& on_reply = {});
  /// Wait until `addr` on link `index` is in use and no IPv6 address of that link is tentative.
  void wait_for_ipv6_address(unsigned index, const std::string& ifname, const IpAddress& addr);
  /// Whether a route lookup of `addr` answers "local" (the address is ours and complete).
  bool routes_locally(const IpAddress& addr);
  /// Whether link `index` has an IPv6 address still being set up (its link-local, say).
  bool has_tentative_ipv6_address(unsigned index, const std::string& ifname);

  mnl_socket* socket_ = nullptr;
  NetNamespace ns_;  // for the per-link sysctls of links made here
  unsigned port_id_ = 0;
  unsigned sequence_ = 0;
};

}  // namespace lastack::sys
