// The sock_diag observer against the kernel: TCP sockets over loopback inside one namespace.
#include <poll.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "lastack/segment.hpp"
#include "lastack/tcp_state.hpp"
#include "harness/sys/net/netns.hpp"
#include "harness/sys/observe/sock_diag.hpp"
#include "loopback_sockets.hpp"

using namespace std::chrono_literals;
using namespace lastack;
using namespace lastack::sys;
using namespace lastack::test;

namespace {

/// The socket with these local and remote ports, if the dump has it.
std::optional<SocketSnapshot> find(const std::vector<SocketSnapshot>& sockets, std::uint16_t local,
                                   std::uint16_t remote) {
  for (const auto& s : sockets)
    if (s.local_port == local && s.remote_port == remote) return s;
  return std::nullopt;
}

/// A connected pair over loopback in one namespace.
struct Pair {
  UniqueFd listener, client, server;
  std::uint16_t listen_port = 0, client_port = 0;
};

Pair connected_pair(const NetNamespace& ns, IpFamily family) {
  Pair p;
  p.listener = tcp_listener(ns, family);
  p.listen_port = local_port(p.listener.get());
  p.client = tcp_connect_start(ns, family, p.listen_port);
  p.server = tcp_accept(p.listener.get(), 1s);
  REQUIRE(p.server.valid());
  REQUIRE(wait_for(p.client.get(), POLLOUT, 1s));
  p.client_port = local_port(p.client.get());
  return p;
}

/// Close actively from the client, then from the server once it has read the EOF: the client
/// ends in TIME_WAIT. Returns its snapshot.
SocketSnapshot client_in_time_wait(SockDiag& diag, Pair& p, IpFamily family) {
  p.client.reset();
  char byte;
  REQUIRE(wait_for(p.server.get(), POLLIN, 1s));
  REQUIRE(::read(p.server.get(), &byte, 1) == 0);
  p.server.reset();
  for (int i = 0; i < 100; ++i) {
    auto s = find(diag.dump(family), p.client_port, p.listen_port);
    if (s && s->state == TcpState::TIME_WAIT) return *s;
    std::this_thread::sleep_for(10ms);
  }
  FAIL("the client never reached TIME_WAIT");
  return {};
}

}  // namespace

TEST_CASE("a connected pair is ESTABLISHED on both sides, with an RTO") {
  const IpFamily family = GENERATE(IpFamily::v4, IpFamily::v6);
  INFO((family == IpFamily::v4 ? "IPv4" : "IPv6"));
  const NetNamespace ns = loopback_namespace();
  SockDiag diag = SockDiag::open_in(ns);
  const Pair p = connected_pair(ns, family);

  const auto sockets = diag.dump(family);
  const auto client = find(sockets, p.client_port, p.listen_port);
  const auto server = find(sockets, p.listen_port, p.client_port);
  REQUIRE(client.has_value());
  REQUIRE(server.has_value());
  for (const auto& s : {*client, *server}) {
    CHECK(s.state == TcpState::ESTABLISHED);
    CHECK(s.local == loopback_address(family));
    CHECK(s.remote == loopback_address(family));
    REQUIRE(s.info.has_value());
    CHECK(s.info->rto > 0us);
    CHECK(s.info->total_retrans == 0);
  }
  // The other family's dump does not list them.
  const IpFamily other = family == IpFamily::v4 ? IpFamily::v6 : IpFamily::v4;
  CHECK_FALSE(find(diag.dump(other), p.client_port, p.listen_port).has_value());
}

TEST_CASE("a listener is LISTEN") {
  const NetNamespace ns = loopback_namespace();
  SockDiag diag = SockDiag::open_in(ns);
  const UniqueFd listener = tcp_listener(ns, IpFamily::v4);
  const auto s = find(diag.dump(IpFamily::v4), local_port(listener.get()), 0);
  REQUIRE(s.has_value());
  CHECK(s->state == TcpState::LISTEN);
}

TEST_CASE("the active closer is in TIME_WAIT with its 60 s timer running") {
  const NetNamespace ns = loopback_namespace();
  SockDiag diag = SockDiag::open_in(ns);
  Pair p = connected_pair(ns, IpFamily::v4);
  const SocketSnapshot tw = client_in_time_wait(diag, p, IpFamily::v4);
  CHECK(tw.timer == SocketSnapshot::TIMER_TIME_WAIT);
  CHECK(tw.expires > 55s);
  CHECK(tw.expires <= 60s);
  CHECK_FALSE(tw.info.has_value());  // a TIME_WAIT socket has no tcp_info
  // The passive closer is gone: LAST_ACK ended with the final ACK.
  CHECK_FALSE(find(diag.dump(IpFamily::v4), p.listen_port, p.client_port).has_value());
}

TEST_CASE("destroy() removes a TIME_WAIT socket, then reports it gone") {
  const IpFamily family = GENERATE(IpFamily::v4, IpFamily::v6);
  INFO((family == IpFamily::v4 ? "IPv4" : "IPv6"));
  const NetNamespace ns = loopback_namespace();
  SockDiag diag = SockDiag::open_in(ns);
  Pair p = connected_pair(ns, family);
  const SocketSnapshot tw = client_in_time_wait(diag, p, family);

  CHECK(diag.destroy(tw, family));
  CHECK_FALSE(find(diag.dump(family), p.client_port, p.listen_port).has_value());
  CHECK_FALSE(diag.destroy(tw, family));
}

TEST_CASE("dump_into reuses the caller's vector and replaces its contents") {
  const NetNamespace ns = loopback_namespace();
  SockDiag diag = SockDiag::open_in(ns);
  std::vector<SocketSnapshot> out(5);
  diag.dump_into(IpFamily::v4, out);
  CHECK(out.empty());
  const UniqueFd listener = tcp_listener(ns, IpFamily::v4);
  diag.dump_into(IpFamily::v4, out);
  CHECK(out.size() == 1);
}
