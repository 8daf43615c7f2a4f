#pragma once
// Building a lab's links, addresses and routes over rtnetlink (libmnl): one netlink round
// trip per step instead of a shell-out to `ip`.
#include <functional>
#include <string>

#include "harness/core/segment.hpp"
#include "harness/sys/netns.hpp"

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

  /// Create a veth pair, MTU 1500, both ends down: `name` here, `peer_name` inside `peer_ns`.
  void create_veth(const std::string& name, const std::string& peer_name, const NetNamespace& peer_ns);
  /// Bring a link up ("lo" included).
  void set_up(const std::string& ifname);
  /// Add addr/prefix_len to a link, usable when this returns. IPv6 skips duplicate address
  /// detection; the link must be up with carrier (both veth ends up), and for its link-local
  /// address to be ready at once, net.ipv6.conf.default.accept_dad=0 must have been set in the
  /// namespace before the link was created.
  void add_address(const std::string& ifname, const IpAddress& addr, unsigned prefix_len);
  /// Add the default route of addr's family via `gateway`, which must already be on-link
  /// (call after set_up and add_address).
  void add_default_route(const IpAddress& gateway);
  /// The interface index of `ifname` in this socket's namespace.
  unsigned ifindex(const std::string& ifname);

 private:
  explicit Rtnetlink(mnl_socket* socket);
  using ReplyHandler = std::function<void(const nlmsghdr&)>;
  /// Send one request and pass each reply to `on_reply`, until the acknowledgement (or, for a
  /// dump, the end of it).
  void request(nlmsghdr* message, const std::string& operation, const ReplyHandler& on_reply = {});
  /// Wait until no IPv6 address of link `index` is tentative.
  void wait_for_ipv6_addresses(unsigned index, const std::string& ifname);

  mnl_socket* socket_ = nullptr;
  unsigned port_id_ = 0;
  unsigned sequence_ = 0;
};

}  // namespace lastack::sys
