// Flow tracking: connections, sides, relative numbers and the exact role tags of every segment
// for each handshake and close shape.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "lastack/flow_tracker.hpp"
#include "lastack/roles.hpp"

using namespace lastack;

namespace {

constexpr std::uint8_t FIN = TcpFlags::FIN, SYN = TcpFlags::SYN, RST = TcpFlags::RST, PSH = TcpFlags::PSH,
                       ACK = TcpFlags::ACK;
constexpr Side client = Side::client, server = Side::server;

const IpAddress client_addr = IpAddress::parse("198.18.1.2").value();
const IpAddress server_addr = IpAddress::parse("198.18.2.2").value();

/// A segment between the client (port `client_port`) and the server (port 8080).
Segment make_segment(Side from, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, std::uint32_t len,
                     std::uint16_t client_port) {
  Segment s;
  const bool by_client = from == Side::client;
  s.src = by_client ? client_addr : server_addr;
  s.dst = by_client ? server_addr : client_addr;
  s.sport = by_client ? client_port : 8080;
  s.dport = by_client ? 8080 : client_port;
  s.flags.bits = flags;
  s.seq = SeqNum(seq);
  s.ack = SeqNum(ack);
  s.payload_len = len;
  return s;
}

/// The wire between one client and one server, as the tracker sees it.
struct Wire {
  FlowTracker tracker{{client_addr}};

  /// Classify one segment and return it all.
  Classified segment(Side from, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, std::uint32_t len = 0,
                     std::uint16_t client_port = 40000) {
    return tracker.observe(make_segment(from, flags, seq, ack, len, client_port));
  }
  /// Classify one segment and return its roles as "a,b,c".
  std::string roles(Side from, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, std::uint32_t len = 0) {
    return segment(from, flags, seq, ack, len).roles.str();
  }
  /// The three-way handshake: client ISN 1000, server ISN 5000.
  void handshake() {
    REQUIRE(roles(client, SYN, 1000, 0) == "syn");
    REQUIRE(roles(server, SYN | ACK, 5000, 1001) == "syn-ack");
    REQUIRE(roles(client, ACK, 1001, 5001) == "handshake-ack,ack");
  }
};

}  // namespace

TEST_CASE("role names round-trip and RoleSet lists in enum order", "[flow]") {
  CHECK(all_role_names().size() == role_count);
  for (auto name : all_role_names()) CHECK(role_name(role_from_name(name).value()) == name);
  CHECK(role_name(Role::final_ack) == "final-ack");
  CHECK(role_name(Role::first_fin_ack) == "first-fin-ack");
  CHECK(role_name(Role::handshake_ack) == "handshake-ack");
  CHECK_FALSE(role_from_name("final_ack"));
  CHECK(side_name(Side::client) == "client");
  CHECK(side_name(peer_of(Side::client)) == "server");
  RoleSet set;
  CHECK(set.empty());
  set.add(Role::first_fin);
  set.add(Role::fin);
  CHECK(set.str() == "fin,first-fin");
  CHECK(set.list() == std::vector<Role>{Role::fin, Role::first_fin});
}

TEST_CASE("handshake: sides, roles and relative numbers", "[flow]") {
  Wire w;
  const Classified syn = w.segment(client, SYN, 1000, 0);
  CHECK(syn.from == client);
  CHECK(syn.roles.str() == "syn");
  CHECK(syn.rel_seq == 0);
  CHECK(syn.rel_ack == 0);  // no ACK flag: raw
  const Classified syn_ack = w.segment(server, SYN | ACK, 5000, 1001);
  CHECK(syn_ack.from == server);
  CHECK(syn_ack.roles.str() == "syn-ack");
  CHECK(syn_ack.rel_seq == 0);
  CHECK(syn_ack.rel_ack == 1);
  const Classified ack = w.segment(client, ACK, 1001, 5001);
  CHECK(ack.roles.str() == "handshake-ack,ack");
  CHECK(ack.rel_seq == 1);
  CHECK(ack.rel_ack == 1);
  CHECK(w.roles(client, PSH | ACK, 1001, 5001, 100) == "data");
  CHECK(w.tracker.connection_count() == 1);
}

TEST_CASE("the handshake ACK may carry data", "[flow]") {
  Wire w;
  CHECK(w.roles(client, SYN, 1000, 0) == "syn");
  CHECK(w.roles(server, SYN | ACK, 5000, 1001) == "syn-ack");
  CHECK(w.roles(client, PSH | ACK, 1001, 5001, 10) == "handshake-ack,data");
  CHECK(w.roles(client, ACK, 1011, 5001) == "ack");
}

TEST_CASE("a retransmitted SYN is syn and retransmission", "[flow]") {
  Wire w;
  CHECK(w.roles(client, SYN, 1000, 0) == "syn");
  CHECK(w.roles(client, SYN, 1000, 0) == "syn,retransmission");
  CHECK(w.roles(server, SYN | ACK, 5000, 1001) == "syn-ack");
  CHECK(w.roles(client, ACK, 1001, 5001) == "handshake-ack,ack");
  CHECK(w.tracker.connection_count() == 1);
}

TEST_CASE("dropped handshake ACK: the answer to the retransmitted SYN-ACK is handshake-ack again", "[flow]") {
  Wire w;
  w.handshake();  // the handshake ACK is dropped on the wire
  CHECK(w.roles(client, PSH | ACK, 1001, 5001, 100) == "data");
  CHECK(w.roles(server, SYN | ACK, 5000, 1001) == "syn-ack,retransmission");
  CHECK(w.roles(client, ACK, 1101, 5001) == "handshake-ack,ack");
  CHECK(w.roles(client, ACK, 1101, 5001) == "ack");  // only one answer per SYN-ACK copy
  CHECK(w.roles(server, SYN | ACK, 5000, 1001) == "syn-ack,retransmission");
  CHECK(w.roles(client, ACK, 1101, 5001) == "handshake-ack,ack");
}

TEST_CASE("retransmitted data re-sends sequence space, pure ACKs never retransmit", "[flow]") {
  Wire w;
  w.handshake();
  CHECK(w.roles(client, ACK, 1001, 5001, 100) == "data");
  CHECK(w.roles(client, ACK, 1101, 5001, 100) == "data");
  CHECK(w.roles(client, ACK, 1001, 5001, 100) == "data,retransmission");
  CHECK(w.roles(client, ACK, 1201, 5001, 100) == "data");
  CHECK(w.roles(client, ACK, 1251, 5001, 100) == "data,retransmission");  // partly new, partly re-sent
  CHECK(w.roles(client, ACK, 1351, 5001) == "ack");
  CHECK(w.roles(client, ACK, 1351, 5001) == "ack");
  CHECK(w.roles(server, ACK, 5001, 1351) == "ack");
}

TEST_CASE("client-first four-segment close", "[flow]") {
  Wire w;
  w.handshake();
  CHECK(w.roles(client, PSH | ACK, 1001, 5001, 100) == "data");
  CHECK(w.roles(server, ACK, 5001, 1101) == "ack");
  CHECK(w.roles(client, FIN | ACK, 1101, 5001) == "fin,first-fin");
  CHECK(w.roles(server, ACK, 5001, 1102) == "ack,first-fin-ack");
  CHECK(w.roles(server, FIN | ACK, 5001, 1102) == "fin,second-fin");
  const Classified last = w.segment(client, ACK, 1102, 5002);
  CHECK(last.roles.str() == "ack,final-ack");
  CHECK(last.from == client);
  CHECK(last.rel_seq == 102);
  CHECK(last.rel_ack == 2);
}

TEST_CASE("server-first four-segment close", "[flow]") {
  Wire w;
  w.handshake();
  const Classified fin = w.segment(server, FIN | ACK, 5001, 1001);
  CHECK(fin.roles.str() == "fin,first-fin");
  CHECK(fin.from == server);
  CHECK(w.roles(client, ACK, 1001, 5002) == "ack,first-fin-ack");
  CHECK(w.roles(client, FIN | ACK, 1001, 5002) == "fin,second-fin");
  CHECK(w.roles(server, ACK, 5002, 1002) == "ack,final-ack");
}

TEST_CASE("three-segment close: the FIN+ACK is second-fin and first-fin-ack", "[flow]") {
  Wire w;
  w.handshake();
  CHECK(w.roles(client, FIN | ACK, 1001, 5001) == "fin,first-fin");
  CHECK(w.roles(server, FIN | ACK, 5001, 1002) == "fin,second-fin,first-fin-ack");
  CHECK(w.roles(client, ACK, 1002, 5002) == "ack,final-ack");
}

TEST_CASE("simultaneous close: the FIN seen first is first-fin, and both ACKs are tagged", "[flow]") {
  Wire w;
  w.handshake();
  CHECK(w.roles(client, FIN | ACK, 1001, 5001) == "fin,first-fin");
  CHECK(w.roles(server, FIN | ACK, 5001, 1001) == "fin,second-fin");  // sent before the client's FIN arrived
  SECTION("first-fin sender acknowledges first") {
    CHECK(w.roles(client, ACK, 1002, 5002) == "ack,final-ack");
    CHECK(w.roles(server, ACK, 5002, 1002) == "ack,first-fin-ack");
  }
  SECTION("second-fin sender acknowledges first") {
    CHECK(w.roles(server, ACK, 5002, 1002) == "ack,first-fin-ack");
    CHECK(w.roles(client, ACK, 1002, 5002) == "ack,final-ack");
  }
}

TEST_CASE("a FIN riding on data: acknowledging only the data is not first-fin-ack", "[flow]") {
  Wire w;
  w.handshake();
  CHECK(w.roles(client, FIN | PSH | ACK, 1001, 5001, 50) == "data,fin,first-fin");
  CHECK(w.roles(server, ACK, 5001, 1051) == "ack");
  CHECK(w.roles(server, ACK, 5001, 1052) == "ack,first-fin-ack");
  CHECK(w.roles(server, FIN | PSH | ACK, 5001, 1052, 20) == "data,fin,second-fin");
  CHECK(w.roles(client, ACK, 1052, 5022) == "ack,final-ack");
}

TEST_CASE("lost final ACK: each retransmitted second FIN is re-acknowledged from TIME_WAIT", "[flow]") {
  Wire w;
  w.handshake();
  CHECK(w.roles(client, FIN | ACK, 1001, 5001) == "fin,first-fin");
  CHECK(w.roles(server, ACK, 5001, 1002) == "ack,first-fin-ack");
  CHECK(w.roles(server, FIN | ACK, 5001, 1002) == "fin,second-fin");
  CHECK(w.roles(client, ACK, 1002, 5002) == "ack,final-ack");  // dropped on the wire
  CHECK(w.roles(server, FIN | ACK, 5001, 1002) == "fin,second-fin,retransmission");
  CHECK(w.roles(client, ACK, 1002, 5002) == "ack,final-ack");  // dropped again
  CHECK(w.roles(server, FIN | ACK, 5001, 1002) == "fin,second-fin,retransmission");
  CHECK(w.roles(client, ACK, 1002, 5002) == "ack,final-ack");
  CHECK(w.roles(client, ACK, 1002, 5002) == "ack");  // no FIN copy left to answer
}

TEST_CASE("lost first-fin-ack: the retransmitted first FIN is re-acknowledged", "[flow]") {
  Wire w;
  w.handshake();
  CHECK(w.roles(client, FIN | ACK, 1001, 5001) == "fin,first-fin");
  CHECK(w.roles(server, ACK, 5001, 1002) == "ack,first-fin-ack");  // dropped on the wire
  CHECK(w.roles(client, FIN | ACK, 1001, 5001) == "fin,first-fin,retransmission");
  CHECK(w.roles(server, ACK, 5001, 1002) == "ack,first-fin-ack");
  CHECK(w.roles(server, FIN | ACK, 5001, 1002) == "fin,second-fin");
  CHECK(w.roles(client, ACK, 1002, 5002) == "ack,final-ack");
}

TEST_CASE("a RST is only rst, even when its ACK field covers a FIN", "[flow]") {
  Wire w;
  w.handshake();
  CHECK(w.roles(client, FIN | ACK, 1001, 5001) == "fin,first-fin");
  CHECK(w.roles(server, RST | ACK, 5001, 1002) == "rst");
  CHECK(w.roles(server, RST, 5001, 0) == "rst");
}

TEST_CASE("roles and relative numbers survive the 2^32 sequence wrap", "[flow]") {
  Wire w;
  const std::uint32_t c_isn = 0xffffffa0u, s_isn = 0xfffffffeu;
  CHECK(w.roles(client, SYN, c_isn, 0) == "syn");
  CHECK(w.roles(server, SYN | ACK, s_isn, c_isn + 1) == "syn-ack");
  CHECK(w.roles(client, ACK, c_isn + 1, 0xffffffffu) == "handshake-ack,ack");
  CHECK(w.roles(client, ACK, c_isn + 1, 0xffffffffu, 200) == "data");  // ends at 0x69, past the wrap
  CHECK(w.roles(client, ACK, c_isn + 1, 0xffffffffu, 200) == "data,retransmission");
  const Classified fin = w.segment(client, FIN | ACK, 0x69, 0xffffffffu);
  CHECK(fin.roles.str() == "fin,first-fin");
  CHECK(fin.rel_seq == 201);
  CHECK(fin.rel_ack == 1);
  CHECK(w.roles(server, ACK, 0xffffffffu, 0x69) == "ack");  // covers the data, not the FIN
  CHECK(w.roles(server, FIN | ACK, 0xffffffffu, 0x6a) == "fin,second-fin,first-fin-ack");
  const Classified last = w.segment(client, ACK, 0x6a, 0);  // server FIN at 0xffffffff, acked by 0
  CHECK(last.roles.str() == "ack,final-ack");
  CHECK(last.rel_ack == 2);
}

TEST_CASE("connections are numbered in order of first appearance", "[flow]") {
  Wire w;
  CHECK(w.segment(client, SYN, 1000, 0, 0, 40000).connection == ConnectionIndex{0});
  CHECK(w.segment(client, SYN, 7000, 0, 0, 40001).connection == ConnectionIndex{1});
  const Classified second = w.segment(server, SYN | ACK, 9000, 7001, 0, 40001);
  CHECK(second.connection == ConnectionIndex{1});
  CHECK(second.roles.str() == "syn-ack");
  CHECK(second.rel_ack == 1);
  const Classified first = w.segment(server, SYN | ACK, 5000, 1001, 0, 40000);
  CHECK(first.connection == ConnectionIndex{0});
  CHECK(first.roles.str() == "syn-ack");
  CHECK(w.tracker.connection_count() == 2);
}

TEST_CASE("without a SYN, the client address names the sides, numbers stay raw", "[flow]") {
  Wire w;
  const Classified mid = w.segment(server, ACK, 5001, 1001, 100);
  CHECK(mid.from == server);
  CHECK(mid.roles.str() == "data");
  CHECK(mid.rel_seq == 5001);
  CHECK(mid.rel_ack == 1001);
  CHECK(w.segment(client, ACK, 1001, 5101).from == client);
}

TEST_CASE("without a SYN or a known address, a SYN-ACK's sender is the server", "[flow]") {
  FlowTracker tracker({});
  const Classified syn_ack = tracker.observe(make_segment(server, SYN | ACK, 5000, 1001, 0, 40000));
  CHECK(syn_ack.from == server);
  CHECK(tracker.observe(make_segment(client, ACK, 1001, 5001, 0, 40000)).from == client);
}

TEST_CASE("the namespace names the sides even when the server's side sends the SYN", "[flow]") {
  // A simultaneous open (or a server that connects out): the SYN's sender is not the client.
  FlowTracker tracker({client_addr});
  const Classified syn = tracker.observe(make_segment(server, SYN, 5000, 0, 0, 40000));
  CHECK(syn.from == server);
  const Classified other = tracker.observe(make_segment(client, SYN, 1000, 0, 0, 40000));
  CHECK(other.from == client);
  CHECK(other.connection == syn.connection);
  CHECK(tracker.observe(make_segment(client, SYN | ACK, 1000, 5001, 0, 40000)).from == client);
  CHECK(tracker.connection_count() == 1);
}

TEST_CASE("without a client address, the SYN's sender is the client", "[flow]") {
  FlowTracker tracker({});
  CHECK(tracker.observe(make_segment(server, SYN, 5000, 0, 0, 40000)).from == client);
}

TEST_CASE("an old duplicate SYN's answer and the RST it draws belong to the old attempt", "[flow]") {
  Wire w;
  CHECK(w.segment(client, SYN, 1000, 0).connection == ConnectionIndex{0});       // abandoned attempt, held
  CHECK(w.segment(client, SYN, 2000000, 0).connection == ConnectionIndex{1});    // the new attempt, new ISN
  const Classified answer = w.segment(server, SYN | ACK, 5000, 1001);  // to the old SYN
  CHECK(answer.connection == ConnectionIndex{0});
  CHECK(answer.roles.has(Role::syn_ack));
  CHECK(w.segment(client, RST, 1001, 0).connection == ConnectionIndex{0});  // the client's kernel refuses it
  CHECK(w.segment(server, SYN | ACK, 9000, 2000001).connection == ConnectionIndex{1});
  CHECK(w.segment(client, ACK, 2000001, 9001).connection == ConnectionIndex{1});
  CHECK(w.tracker.connection_count() == 2);
}

TEST_CASE("a data segment acknowledging below the new incarnation's ISN belongs to the old one", "[flow]") {
  Wire w;
  w.handshake();  // client ISN 1000, server ISN 5000
  w.segment(client, ACK | PSH, 1001, 5001, 1000);
  w.segment(client, FIN | ACK, 2001, 5001);
  w.segment(server, FIN | ACK, 5001, 2002);
  w.segment(client, ACK, 2002, 5002);
  REQUIRE(w.segment(client, SYN, 1500, 0).connection == ConnectionIndex{1});  // reused ports, ISN inside the old space
  REQUIRE(w.segment(server, SYN | ACK, 80000, 1501).connection == ConnectionIndex{1});
  REQUIRE(w.segment(client, ACK, 1501, 80001).connection == ConnectionIndex{1});
  // A copy of the old data: its sequence number fits the new window, its acknowledgment does not.
  CHECK(w.segment(client, ACK | PSH, 1001, 5001, 1000).connection == ConnectionIndex{0});
  CHECK(w.segment(client, ACK | PSH, 1501, 80001, 100).connection == ConnectionIndex{1});
}

TEST_CASE("a new SYN on a closed endpoint pair starts a new connection", "[flow]") {
  Wire w;
  w.handshake();
  CHECK(w.roles(client, FIN | ACK, 1001, 5001) == "fin,first-fin");
  CHECK(w.roles(server, FIN | ACK, 5001, 1002) == "fin,second-fin,first-fin-ack");
  CHECK(w.roles(client, ACK, 1002, 5002) == "ack,final-ack");
  const Classified syn = w.segment(client, SYN, 900000, 0);
  CHECK(syn.connection == ConnectionIndex{1});
  CHECK(syn.roles.str() == "syn");
  CHECK(syn.rel_seq == 0);
  CHECK(w.segment(server, SYN | ACK, 70000, 900001).connection == ConnectionIndex{1});
  CHECK(w.tracker.connection_count() == 2);
}

TEST_CASE("FlowTracker is movable", "[flow]") {
  FlowTracker a({client_addr});
  a.observe(make_segment(client, SYN, 1000, 0, 0, 40000));
  FlowTracker b = std::move(a);
  CHECK(b.connection_count() == 1);
  CHECK(b.observe(make_segment(client, SYN, 1000, 0, 0, 40000)).roles.str() == "syn,retransmission");
}
