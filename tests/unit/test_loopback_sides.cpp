// `lastack wrap`'s sides: both ends live in one namespace, so each socket (cookie) takes the side
// its connection's SYN gives its ports, and keeps it.
#include <catch2/catch.hpp>

#include "harness/core/trace/loopback_sides.hpp"
#include "trace_builder.hpp"

using namespace lastack;
using lastack::testing::ms;
using lastack::testing::TraceBuilder;

namespace {

// A kernel event of the socket `cookie` with these ports, logged (as wrap's observers log all)
// as the client's.
SocketEvent socket_event(double at, SocketCookie cookie, std::uint16_t local, std::uint16_t remote, TcpState state) {
  SocketEvent e;
  e.at = ms(at);
  e.side = Side::client;
  e.cookie = cookie;
  e.local_port = local;
  e.remote_port = remote;
  e.state = state;
  return e;
}

// The side a kernel event now says.
Side side_of(const TraceEvent& e) {
  if (const auto* s = std::get_if<SocketEvent>(&e)) return s->side;
  if (const auto* c = std::get_if<StateChange>(&e)) return c->side;
  if (const auto* r = std::get_if<KernelReset>(&e)) return r->side;
  FAIL("not a kernel event");
  return Side::client;
}

}  // namespace

TEST_CASE("loopback sides: the socket on the SYN's source port is the client and its peer the server") {
  TraceBuilder b;  // client 40000 -> server 8080
  b.wire(0, Side::client, "S", 0, 0, 0, {Role::syn});
  Trace t = b.trace;
  t.events.emplace_back(socket_event(1, 11, 40000, 8080, TcpState::ESTABLISHED));
  t.events.emplace_back(socket_event(1, 22, 8080, 40000, TcpState::ESTABLISHED));
  StateChange closed{ms(2), Side::client, std::nullopt, 8080, 40000, TcpState::LAST_ACK, TcpState::CLOSE, 22};
  t.events.emplace_back(closed);
  t.events.emplace_back(socket_event(3, 44, 8080, 0, TcpState::LISTEN));  // the listener: the server's
  CHECK(assign_loopback_sides(t) == 3);
  CHECK(side_of(t.events[4]) == Side::server);
  CHECK(side_of(t.events[1]) == Side::client);
  CHECK(side_of(t.events[2]) == Side::server);
  CHECK(side_of(t.events[3]) == Side::server);  // the server's socket, by its cookie
}

TEST_CASE("loopback sides: a cookie keeps the side its first ports gave it") {
  TraceBuilder b;
  b.wire(0, Side::client, "S", 0, 0, 0, {Role::syn});
  Trace t = b.trace;
  t.events.emplace_back(socket_event(1, 11, 40000, 8080, TcpState::SYN_SENT));
  // Later ports that would say otherwise do not rename the socket: the cookie is its name.
  t.events.emplace_back(socket_event(2, 11, 8080, 40000, TcpState::ESTABLISHED));
  assign_loopback_sides(t);
  CHECK(side_of(t.events[2]) == Side::client);
}

TEST_CASE("loopback sides: a socket no SYN on the wire names keeps its side and a cookieless reset goes by ports") {
  TraceBuilder b;
  b.wire(0, Side::client, "S", 0, 0, 0, {Role::syn});
  Trace t = b.trace;
  t.events.emplace_back(socket_event(1, 33, 5000, 6000, TcpState::ESTABLISHED));  // off the wire
  KernelReset reset;
  reset.at = ms(2);
  reset.side = Side::client;
  reset.local_port = 8080;
  reset.remote_port = 40000;
  t.events.emplace_back(reset);
  CHECK(assign_loopback_sides(t) == 0);
  CHECK(side_of(t.events[1]) == Side::client);
  CHECK(side_of(t.events[2]) == Side::server);
}

TEST_CASE("loopback sides: a SYN-ACK names nobody and a second SYN does not rename the pair") {
  SidesBySyn syns;
  WireEvent synack;
  synack.segment.sport = 8080;
  synack.segment.dport = 40000;
  synack.segment.flags.bits = TcpFlags::SYN | TcpFlags::ACK;
  synack.info.from = Side::server;
  syns.learn(synack);
  CHECK_FALSE(syns.side_of(8080, 40000));
  WireEvent syn;
  syn.segment.sport = 40000;
  syn.segment.dport = 8080;
  syn.segment.flags.bits = TcpFlags::SYN;
  syn.info.from = Side::client;
  syns.learn(syn);
  WireEvent server_syn = syn;  // a simultaneous open's second SYN, the tracker's server
  server_syn.segment.sport = 8080;
  server_syn.segment.dport = 40000;
  server_syn.info.from = Side::server;
  syns.learn(server_syn);
  CHECK(syns.side_of(40000, 8080) == Side::client);
  CHECK(syns.side_of(8080, 40000) == Side::server);
}
