#pragma once
// Building a lab's links, addresses and routes over rtnetlink (libmnl): one netlink round
// trip per step instead of a shell-out to `ip`.
#include <string>

#include "harness/core/segment.hpp"
#include "harness/sys/netns.hpp"

struct mnl_socket;

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
  /// Add addr/prefix_len to a link; IPv6 addresses skip duplicate address detection.
  void add_address(const std::string& ifname, const IpAddress& addr, unsigned prefix_len);
  /// Add the default route of addr's family via `gateway`, which must already be on-link
  /// (call after set_up and add_address).
  void add_default_route(const IpAddress& gateway);
  /// The interface index of `ifname` in this socket's namespace.
  unsigned ifindex(const std::string& ifname);

 private:
  explicit Rtnetlink(mnl_socket* socket);
  struct Reply;
  /// Send one request (NLM_F_ACK set here) and wait for its acknowledgement.
  Reply request(void* message, const std::string& operation);

  mnl_socket* socket_ = nullptr;
  unsigned port_id_ = 0;
  unsigned sequence_ = 0;
};

}  // namespace lastack::sys
