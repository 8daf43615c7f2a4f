// The RSTs a reset fault sends in place of a segment: to each end, from the other, with the exact
// sequence number its receiver expects (RFC 5961: anything else draws a challenge ACK).
#include <catch2/catch.hpp>

#include "harness/core/decide/segment_fate.hpp"
#include "harness/core/wire/reset_segment.hpp"
#include "lastack/segment.hpp"

using namespace lastack;

namespace {

IpAddress addr(const char* text) { return IpAddress::parse(text).value(); }

/// The server's data segment: 1000 bytes at seq 5001, acknowledging the client's 301.
Segment server_data() {
  SegmentSpec s;
  s.src = addr("198.18.2.2");
  s.dst = addr("198.18.1.2");
  s.sport = 8080;
  s.dport = 40000;
  s.seq = SeqNum(5001);
  s.ack = SeqNum(301);
  s.flags.bits = TcpFlags::ACK | TcpFlags::PSH;
  s.window = 502;
  s.payload.assign(1000, 0x61);
  return parse_segment(build_segment(s));
}

}  // namespace

TEST_CASE("a reset replaces a segment by a RST to its receiver at SEG.SEQ and one to its sender at SEG.ACK",
          "[reset]") {
  const Segment data = server_data();
  const auto rsts = resets_replacing(data, Side::server, std::nullopt);
  REQUIRE(rsts.size() == 2);
  // The receiver first: it seems to come from the server, at the client's RCV.NXT.
  CHECK(rsts[0].to == Side::client);
  const Segment to_client = parse_segment(build_segment(rsts[0].rst));
  CHECK(to_client.src == data.src);
  CHECK(to_client.dst == data.dst);
  CHECK(to_client.sport == 8080);
  CHECK(to_client.dport == 40000);
  CHECK(to_client.seq == SeqNum(5001));
  CHECK(to_client.ack == SeqNum(301));
  CHECK(to_client.flags.bits == (TcpFlags::RST | TcpFlags::ACK));
  CHECK(to_client.payload_len == 0);
  // Then the sender: from the client, at the server's RCV.NXT (what it had acknowledged).
  CHECK(rsts[1].to == Side::server);
  const auto packet = build_segment(rsts[1].rst);
  const Segment to_server = parse_segment(packet);
  CHECK(to_server.src == data.dst);
  CHECK(to_server.dport == 8080);
  CHECK(to_server.seq == SeqNum(301));
  CHECK(to_server.flags.bits == TcpFlags::RST);
}

TEST_CASE("reset-to names one end: one RST", "[reset]") {
  const Segment data = server_data();
  const auto to_server = resets_replacing(data, Side::server, Side::server);
  REQUIRE(to_server.size() == 1);
  CHECK(to_server[0].to == Side::server);
  CHECK(to_server[0].rst.seq == SeqNum(301));
  const auto to_client = resets_replacing(data, Side::server, Side::client);
  REQUIRE(to_client.size() == 1);
  CHECK(to_client[0].rst.seq == SeqNum(5001));
}

TEST_CASE("a replaced SYN: its sender gets RST,ACK acknowledging it (connection refused)", "[reset]") {
  SegmentSpec syn;
  syn.src = addr("198.18.1.2");
  syn.dst = addr("198.18.2.2");
  syn.sport = 40000;
  syn.dport = 8080;
  syn.seq = SeqNum(1000);
  syn.flags.bits = TcpFlags::SYN;
  const Segment s = parse_segment(build_segment(syn));
  const auto rsts = resets_replacing(s, Side::client, Side::client);
  REQUIRE(rsts.size() == 1);
  CHECK(rsts[0].rst.flags.bits == (TcpFlags::RST | TcpFlags::ACK));
  CHECK(rsts[0].rst.ack == SeqNum(1001));
  // Toward the server, no ACK to carry: a bare RST at the SYN's own sequence number.
  const auto to_server = resets_replacing(s, Side::client, Side::server);
  CHECK(to_server[0].rst.flags.bits == TcpFlags::RST);
  CHECK(to_server[0].rst.seq == SeqNum(1000));
}

TEST_CASE("a reset's segment is dropped, its note names who gets the RST", "[reset]") {
  FaultRule r;
  r.action = ActionKind::reset;
  r.match.segment = Role::data;
  Decision d;
  d.pass = false;
  d.fault = 0;
  d.action = ActionKind::reset;
  const SegmentFate both = segment_fate(d, {r}, 7, 100, 100);
  CHECK(both.fate == Fate::dropped);
  CHECK(both.verdict == QueueVerdict::drop);
  CHECK(both.reset);
  CHECK(both.note == "replaced by a RST to both ends by fault 1: data");
  r.reset_to = Side::client;
  CHECK(segment_fate(d, {r}, 7, 100, 100).note == "replaced by a RST to the client by fault 1: data");
}
