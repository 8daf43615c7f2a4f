// The Linux plumbing of a lab: namespaces, veths, addresses, routes, sysctls, offloads,
// iptables, and a TCP connection across the wire namespace.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <catch2/catch.hpp>
#include <string>

#include "harness/core/error.hpp"
#include "harness/core/segment.hpp"
#include "harness/sys/iptables.hpp"
#include "harness/sys/netns.hpp"
#include "harness/sys/offloads.hpp"
#include "harness/sys/privilege.hpp"
#include "harness/sys/process.hpp"
#include "harness/sys/rtnetlink.hpp"
#include "harness/sys/sysctl.hpp"

using namespace lastack;
using namespace lastack::sys;

namespace {

IpAddress ip(const std::string& text) {
  const auto addr = IpAddress::parse(text);
  REQUIRE(addr.has_value());
  return *addr;
}

/// client eth0 <-> wire c0, wire s0 <-> server eth0; wire routes between them.
struct TestLab {
  NetNamespace client = NetNamespace::create();
  NetNamespace wire = NetNamespace::create();
  NetNamespace server = NetNamespace::create();
};

/// One endpoint's side of the lab: its link, its addresses and the wire's addresses facing it.
void configure_endpoint(const NetNamespace& ns, Rtnetlink& wire_rtnl, const std::string& wire_link,
                        const std::string& v4_net, const std::string& v6_net) {
  Rtnetlink rtnl = Rtnetlink::open_in(ns);
  for (const char* link : {"lo", "eth0"}) rtnl.set_up(link);
  wire_rtnl.set_up(wire_link);
  rtnl.add_address("eth0", ip(v4_net + ".2"), 24);
  rtnl.add_address("eth0", ip(v6_net + "::2"), 64);
  wire_rtnl.add_address(wire_link, ip(v4_net + ".1"), 24);
  wire_rtnl.add_address(wire_link, ip(v6_net + "::1"), 64);
  rtnl.add_default_route(ip(v4_net + ".1"));
  rtnl.add_default_route(ip(v6_net + "::1"));
  disable_offloads(ns, "eth0");
  disable_offloads(ns == ns ? ns : ns, "eth0");
}

TestLab build_test_lab() {
  TestLab lab;
  Rtnetlink wire_rtnl = Rtnetlink::open_in(lab.wire);
  wire_rtnl.create_veth("c0", "eth0", lab.client);
  wire_rtnl.create_veth("s0", "eth0", lab.server);
  wire_rtnl.set_up("lo");
  configure_endpoint(lab.client, wire_rtnl, "c0", "198.18.1", "fd00:1");
  configure_endpoint(lab.server, wire_rtnl, "s0", "198.18.2", "fd00:2");
  for (const char* link : {"c0", "s0"}) disable_offloads(lab.wire, link);
  write_sysctl(lab.wire, "net.ipv4.ip_forward", "1");
  write_sysctl(lab.wire, "net.ipv6.conf.all.forwarding", "1");
  return lab;
}

sockaddr_storage socket_address(const IpAddress& addr, std::uint16_t port) {
  sockaddr_storage storage{};
  if (addr.family == IpFamily::v4) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    std::memcpy(&v4->sin_addr, addr.bytes.data(), 4);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    std::memcpy(&v6->sin6_addr, addr.bytes.data(), 16);
  }
  return storage;
}

socklen_t socket_address_size(const IpAddress& addr) {
  return addr.family == IpFamily::v4 ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

/// Connect from `client` to a listener on `server_addr` in `server`; the address the server
/// saw the connection come from.
IpAddress connect_across(const TestLab& lab, const IpAddress& server_addr) {
  const int family = server_addr.family == IpFamily::v4 ? AF_INET : AF_INET6;
  UniqueFd listener(in_netns(lab.server, [&] { return ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0); }));
  REQUIRE(listener.valid());
  sockaddr_storage bound = socket_address(server_addr, 0);
  REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&bound), socket_address_size(server_addr)) == 0);
  REQUIRE(::listen(listener.get(), 1) == 0);
  socklen_t bound_size = sizeof bound;
  REQUIRE(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&bound), &bound_size) == 0);
  const std::uint16_t port = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);  // same offset in v6

  UniqueFd client(in_netns(lab.client, [&] { return ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0); }));
  REQUIRE(client.valid());
  const timeval five_seconds{5, 0};  // a broken lab fails the test instead of hanging it
  REQUIRE(::setsockopt(client.get(), SOL_SOCKET, SO_SNDTIMEO, &five_seconds, sizeof five_seconds) == 0);
  const sockaddr_storage target = socket_address(server_addr, port);
  INFO("connect: " << std::strerror(errno));
  REQUIRE(::connect(client.get(), reinterpret_cast<const sockaddr*>(&target), socket_address_size(server_addr)) == 0);

  sockaddr_storage peer{};
  socklen_t peer_size = sizeof peer;
  UniqueFd accepted(::accept4(listener.get(), reinterpret_cast<sockaddr*>(&peer), &peer_size, SOCK_CLOEXEC));
  REQUIRE(accepted.valid());
  IpAddress seen;
  seen.family = server_addr.family;
  if (peer.ss_family == AF_INET)
    std::memcpy(seen.bytes.data(), &reinterpret_cast<sockaddr_in*>(&peer)->sin_addr, 4);
  else
    std::memcpy(seen.bytes.data(), &reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr, 16);
  return seen;
}

}  // namespace
