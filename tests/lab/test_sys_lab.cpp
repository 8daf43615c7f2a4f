// The Linux plumbing of a lab: namespaces, veths, addresses, routes, sysctls, offloads,
// iptables, and a TCP connection across the wire namespace.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "lastack/error.hpp"
#include "lastack/segment.hpp"
#include "harness/sys/net/iptables.hpp"
#include "harness/sys/net/netns.hpp"
#include "harness/sys/net/offloads.hpp"
#include "lastack/privilege.hpp"
#include "harness/sys/proc/process.hpp"
#include "harness/sys/net/rtnetlink.hpp"
#include "harness/sys/net/sysctl.hpp"
#include "harness/sys/net/xtables.hpp"

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

/// Build the lab in the order that makes it usable at once: links up on both ends and running
/// before addresses, addresses before routes.
TestLab build_test_lab() {
  TestLab lab;
  Rtnetlink wire = Rtnetlink::open_in(lab.wire);
  Rtnetlink client = Rtnetlink::open_in(lab.client);
  Rtnetlink server = Rtnetlink::open_in(lab.server);
  wire.create_veth("c0", "eth0", lab.client);
  wire.create_veth("s0", "eth0", lab.server);
  for (const char* link : {"lo", "c0", "s0"}) wire.set_up(link);
  for (Rtnetlink* endpoint : {&client, &server})
    for (const char* link : {"lo", "eth0"}) endpoint->set_up(link);
  for (const char* link : {"c0", "s0"}) wire.wait_until_running(link);
  for (Rtnetlink* endpoint : {&client, &server}) endpoint->wait_until_running("eth0");

  wire.add_address("c0", ip("198.18.1.1"), 24);
  wire.add_address("c0", ip("fd00:1::1"), 64);
  wire.add_address("s0", ip("198.18.2.1"), 24);
  wire.add_address("s0", ip("fd00:2::1"), 64);
  client.add_address("eth0", ip("198.18.1.2"), 24);
  client.add_address("eth0", ip("fd00:1::2"), 64);
  server.add_address("eth0", ip("198.18.2.2"), 24);
  server.add_address("eth0", ip("fd00:2::2"), 64);
  client.add_default_route(ip("198.18.1.1"));
  client.add_default_route(ip("fd00:1::1"));
  server.add_default_route(ip("198.18.2.1"));
  server.add_default_route(ip("fd00:2::1"));

  for (const char* link : {"c0", "s0"}) disable_offloads(lab.wire, link);
  disable_offloads(lab.client, "eth0");
  disable_offloads(lab.server, "eth0");
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
  const int connected =
      ::connect(client.get(), reinterpret_cast<const sockaddr*>(&target), socket_address_size(server_addr));
  INFO("connect to " << server_addr.str() << ": " << (connected == 0 ? "ok" : std::strerror(errno)));
  REQUIRE(connected == 0);

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

TEST_CASE("lab privileges are entered and named", "[sys]") {
  const PrivilegeMode mode = current_privilege_mode();
  CHECK(enter_lab_privileges() == mode);  // a second call changes nothing
  CHECK(::geteuid() == 0);
  if (mode == PrivilegeMode::user_namespace) {
    // iptables' lock lives in a /run of our own, which dies with the process.
    struct statfs run {};
    REQUIRE(::statfs("/run", &run) == 0);
    CHECK(run.f_type == TMPFS_MAGIC);
    CHECK(::access("/run", W_OK) == 0);
  }
  CHECK((privilege_mode_name(mode) == "root" || privilege_mode_name(mode) == "user namespace"));
}

TEST_CASE("a TCP connection crosses the wire namespace over IPv4", "[sys]") {
  const TestLab lab = build_test_lab();
  const auto start = std::chrono::steady_clock::now();
  CHECK(connect_across(lab, ip("198.18.2.2")) == ip("198.18.1.2"));
  // Immediate, not after the 1 s SYN retransmission a not-yet-running link would cost.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
}

TEST_CASE("a TCP connection crosses the wire namespace over IPv6", "[sys]") {
  const TestLab lab = build_test_lab();
  const auto start = std::chrono::steady_clock::now();
  CHECK(connect_across(lab, ip("fd00:2::2")) == ip("fd00:1::2"));
  // Immediate, not after the 1 s retry a half-configured IPv6 address would cost.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
}

TEST_CASE("segmentation offloads are off on every lab link", "[sys]") {
  const TestLab lab = build_test_lab();
  const OffloadState all_off{};
  CHECK(read_offloads(lab.client, "eth0") == all_off);
  CHECK(read_offloads(lab.wire, "c0") == all_off);
  CHECK(read_offloads(lab.wire, "s0") == all_off);
  CHECK(read_offloads(lab.server, "eth0") == all_off);
  // A fresh veth has them on, so the check above could fail.
  NetNamespace other = NetNamespace::create();
  Rtnetlink::open_in(other).create_veth("x0", "x1", other);
  CHECK(read_offloads(other, "x0").gso);
}

TEST_CASE("both ends of a veth pair skip IPv6 duplicate address detection", "[sys]") {
  NetNamespace here = NetNamespace::create();
  NetNamespace there = NetNamespace::create();
  Rtnetlink::open_in(here).create_veth("d0", "d1", there);
  CHECK(read_sysctl(here, "net.ipv6.conf.d0.accept_dad") == "0");
  CHECK(read_sysctl(there, "net.ipv6.conf.d1.accept_dad") == "0");
  CHECK(read_sysctl(here, "net.ipv6.conf.default.accept_dad") != "0");  // so the "0"s are ours
}

TEST_CASE("rtnetlink errors name the operation and the reason", "[sys]") {
  NetNamespace ns = NetNamespace::create();
  Rtnetlink rtnl = Rtnetlink::open_in(ns);
  rtnl.create_veth("a0", "a1", ns);
  CHECK(rtnl.ifindex("a0") != rtnl.ifindex("a1"));
  CHECK_THROWS_WITH(rtnl.create_veth("a0", "a2", ns), Catch::Contains("create veth a0") && Catch::Contains("exists"));
  CHECK_THROWS_AS(rtnl.set_up("missing0"), HarnessError);
  CHECK_THROWS_WITH(rtnl.ifindex("missing0"), Catch::Contains("missing0") && Catch::Contains("No such device"));
}

TEST_CASE("a sysctl written in a namespace reads back there and nowhere else", "[sys]") {
  NetNamespace ns = NetNamespace::create();
  const NetNamespace host = NetNamespace::current();
  const std::string host_value = read_sysctl(host, "net.ipv4.tcp_fin_timeout");
  const std::string lab_value = host_value == "7" ? "8" : "7";
  write_sysctl(ns, "net.ipv4.tcp_fin_timeout", lab_value);
  CHECK(read_sysctl(ns, "net.ipv4.tcp_fin_timeout") == lab_value);
  CHECK(read_sysctl(host, "net.ipv4.tcp_fin_timeout") == host_value);
}

TEST_CASE("a sysctl that does not exist, or is not a sysctl name, is refused", "[sys]") {
  NetNamespace ns = NetNamespace::create();
  CHECK_THROWS_AS(write_sysctl(ns, "net.ipv4.no_such_knob", "1"), EnvironmentError);
  CHECK_THROWS_WITH(read_sysctl(ns, "net.ipv4.no_such_knob"),
                    "sysctl net.ipv4.no_such_knob does not exist on this kernel");
  CHECK_THROWS_AS(read_sysctl(ns, "net/ipv4/tcp_fin_timeout"), InputError);
  CHECK_THROWS_AS(read_sysctl(ns, "net.ipv4...conf"), InputError);
  CHECK_THROWS_AS(write_sysctl(ns, "net.ipv4.tcp_fin_timeout", "not-a-number"), InputError);
}

TEST_CASE("iptables rules load into a namespace and dump back", "[sys]") {
  NetNamespace ns = NetNamespace::create();
  const std::string rules =
      "*raw\n-A PREROUTING -j NOTRACK\nCOMMIT\n"
      "*filter\n-A FORWARD -p tcp --tcp-flags FIN FIN -j NFQUEUE --queue-num 3 --queue-bypass\nCOMMIT\n";
  for (const bool ipv6 : {false, true}) {
    apply_iptables(ns, rules, ipv6);
    const std::string dump = dump_iptables(ns, ipv6);
    CHECK_THAT(dump, Catch::Contains("--queue-num 3"));
    CHECK_THAT(dump, Catch::Contains("-A PREROUTING -j NOTRACK"));
  }
  CHECK(dump_iptables(NetNamespace::current(), false).find("--queue-num 3") == std::string::npos);
}

/// The FORWARD rules of an iptables-save dump (or of a script), in order.
std::vector<std::string> forward_rules(const std::string& text) {
  std::vector<std::string> rules;
  std::size_t at = 0;
  while ((at = text.find("-A FORWARD", at)) != std::string::npos) {
    const std::size_t end = text.find('\n', at);
    rules.push_back(text.substr(at, end - at));
    at = end;
  }
  return rules;
}

TEST_CASE("queue rules loaded without iptables dump back as iptables-restore loads their script", "[sys]") {
  NetNamespace ns = NetNamespace::create();
  for (const bool ipv6 : {false, true}) {
    INFO("ipv6 " << ipv6);
    QueueRules rules;
    rules.queue_num = 7;
    rules.ipv6 = ipv6;
    rules.forward = {QueueRule{true, std::nullopt},
                     QueueRule{false, std::pair<std::uint16_t, std::uint16_t>(0, ipv6 ? 100 : 80)}, QueueRule{}};
    load_queue_rules(ns, rules);
    const std::string dump = dump_iptables(ns, ipv6);
    NetNamespace restored = NetNamespace::create();
    apply_iptables(restored, queue_rules_script(rules), ipv6);
    const std::string expected = dump_iptables(restored, ipv6);
    INFO(dump << "\nexpected:\n" << expected);
    CHECK(forward_rules(dump).size() == 3);
    CHECK(forward_rules(dump) == forward_rules(expected));
    CHECK_THAT(dump, Catch::Contains(":FORWARD ACCEPT"));
    CHECK(dump.find("bypass") == std::string::npos);
    // Loading again replaces the table (a run loads once; a second load must not append).
    rules.forward.resize(1);
    load_queue_rules(ns, rules);
    CHECK(forward_rules(dump_iptables(ns, ipv6)).size() == 1);
  }
  CHECK(dump_iptables(NetNamespace::current(), false).find("--queue-num 7") == std::string::npos);
}

TEST_CASE("a lab namespace has its own small TCP hash table and the host's derived TCP settings", "[sys]") {
  NetNamespace ns = NetNamespace::create();
  // What a namespace sharing the host's table gets: entries / 128 and entries / 2.
  const auto host_entries = std::stoul(read_sysctl(NetNamespace::current(), "net.ipv4.tcp_ehash_entries"));
  CHECK(std::stoul(read_sysctl(ns, "net.ipv4.tcp_ehash_entries")) == 4096);
  CHECK(std::stoul(read_sysctl(ns, "net.ipv4.tcp_max_syn_backlog")) == std::max(128ul, host_entries / 128));
  CHECK(std::stoul(read_sysctl(ns, "net.ipv4.tcp_max_tw_buckets")) == host_entries / 2);
}

TEST_CASE("a bad iptables script is an environment error quoting iptables", "[sys]") {
  NetNamespace ns = NetNamespace::create();
  CHECK_THROWS_AS(apply_iptables(ns, "*filter\n-A FORWARD -j NO_SUCH_TARGET\nCOMMIT\n", false), EnvironmentError);
  CHECK_THROWS_WITH(apply_iptables(ns, "*filter\n-A FORWARD -j NO_SUCH_TARGET\nCOMMIT\n", true),
                    Catch::StartsWith("ip6tables") && Catch::Contains("failed: "));
}

TEST_CASE("a helper program runs inside the namespace with its input and output", "[sys]") {
  NetNamespace ns = NetNamespace::create();
  const ProcessResult cat = run_in_netns(ns, {"cat"}, "hello\n");
  CHECK(cat.exit_code == 0);
  CHECK(cat.output == "hello\n");
  // Only lo exists in a fresh namespace: the helper really ran there.
  const ProcessResult links = run_in_netns(ns, {"cat", "/proc/net/dev"}, "");
  CHECK(links.output.find("lo:") != std::string::npos);
  CHECK(links.output.find("eth0") == std::string::npos);
  CHECK(links.output.find("c0:") == std::string::npos);
  CHECK(run_in_netns(ns, {"sh", "-c", "echo oops >&2; exit 3"}, "").exit_code == 3);
  CHECK(run_in_netns(ns, {"sh", "-c", "echo oops >&2; exit 3"}, "").output == "oops\n");
  CHECK_THROWS_AS(run_in_netns(ns, {"no-such-program-lastack"}, ""), EnvironmentError);
}

TEST_CASE("find_program searches PATH and sbin, in the order of the names given", "[sys]") {
  CHECK(find_program({"no-such-program-lastack"}) == std::nullopt);
  CHECK(find_program({"no-such-program-lastack", "sh"}).value_or("").ends_with("/sh"));
  CHECK(find_program({"iptables-legacy-restore"}).value_or("").ends_with("sbin/iptables-legacy-restore"));
}

TEST_CASE("a lab leaves nothing behind in the host namespace", "[sys]") {
  const NetNamespace host = NetNamespace::current();
  const ProcessResult before = run_in_netns(host, {"ip", "netns", "list"}, "");
  { const TestLab lab = build_test_lab(); }
  const ProcessResult after = run_in_netns(host, {"ip", "netns", "list"}, "");
  CHECK(before.exit_code == 0);
  CHECK(after.output == before.output);
  CHECK(::if_nametoindex("c0") == 0);
  CHECK(::if_nametoindex("s0") == 0);
}
