// merge_wire: the capture's ingress and egress copies joined with the interceptor's log.
// Each packet is commented with the line `tcpdump -nS` prints for it (checksums are valid).
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "lastack/segment.hpp"
#include "harness/core/trace/wire_merge.hpp"
#include "hex_bytes.hpp"

using namespace lastack;
using namespace std::chrono_literals;

namespace {

using test::hex;

// IP 198.18.1.2.40000 > 198.18.2.2.8080: Flags [S], seq 1000000000, win 64240, length 0
const auto syn = hex(
    "4500 0028 1234 4000 4006 9973 c612 0102 "
    "c612 0202 9c40 1f90 3b9a ca00 0000 0000 "
    "5002 faf0 645d 0000 ");

// IP 198.18.2.2.8080 > 198.18.1.2.40000: Flags [S.], seq 2000000000, ack 1000000001, win 64240, length 0
const auto syn_ack = hex(
    "4500 0028 1234 4000 4006 9973 c612 0202 "
    "c612 0102 1f90 9c40 7735 9400 3b9a ca01 "
    "5012 faf0 5916 0000 ");

// IP 198.18.1.2.40000 > 198.18.2.2.8080: Flags [.], ack 2000000001, win 502, length 0
const auto ack = hex(
    "4500 0028 1234 4000 4006 9973 c612 0102 "
    "c612 0202 9c40 1f90 3b9a ca01 7735 9401 "
    "5010 01f6 5212 0000 ");

// IP 198.18.1.2.40000 > 198.18.2.2.8080: Flags [P.], seq 1000000001:1000000017, ack 2000000001,
//   win 502, options [nop,nop,TS val 100 ecr 50], length 16
const auto data = hex(
    "4500 0044 1234 4000 4006 9957 c612 0102 "
    "c612 0202 9c40 1f90 3b9a ca01 7735 9401 "
    "8018 01f6 5998 0000 0101 080a 0000 0064 "
    "0000 0032 6865 6c6c 6f2c 206c 6173 7461 "
    "636b 210a ");

// The same data sent again: identical headers but for the timestamp (and so the checksum).
// IP 198.18.1.2.40000 > 198.18.2.2.8080: Flags [P.], seq 1000000001:1000000017, ack 2000000001,
//   win 502, options [nop,nop,TS val 330 ecr 50], length 16
const auto data_again = hex(
    "4500 0044 1234 4000 4006 9957 c612 0102 "
    "c612 0202 9c40 1f90 3b9a ca01 7735 9401 "
    "8018 01f6 58b2 0000 0101 080a 0000 014a "
    "0000 0032 6865 6c6c 6f2c 206c 6173 7461 "
    "636b 210a ");

// IP 198.18.2.2.8080 > 198.18.1.2.40000: Flags [R], seq 2000000001, win 0, length 0
const auto rst = hex(
    "4500 0028 1234 4000 4006 9973 c612 0202 "
    "c612 0102 1f90 9c40 7735 9401 0000 0000 "
    "5004 0000 59b0 0000 ");

const std::vector<IpAddress> clients{*IpAddress::parse("198.18.1.2")};

Instant ms(int v) { return Instant(std::chrono::milliseconds(v)); }

// The copy that leaves wire: one hop less to live, so another IP checksum.
std::vector<std::uint8_t> forwarded(std::vector<std::uint8_t> b) {
  b[8] -= 1;
  std::uint32_t sum = ((b[10] << 8) | b[11]) + 0x0100;
  sum = (sum & 0xffff) + (sum >> 16);
  b[10] = static_cast<std::uint8_t>(sum >> 8);
  b[11] = static_cast<std::uint8_t>(sum & 0xff);
  return b;
}

Side sender(const std::vector<std::uint8_t>& b) { return b[15] == 1 ? Side::client : Side::server; }

// A segment entering wire from its sender's veth.
CapturedSegment in(int at_ms, const std::vector<std::uint8_t>& b) {
  return {ms(at_ms), sender(b), false, b, static_cast<std::uint32_t>(b.size())};
}
// A segment leaving wire through its receiver's veth.
CapturedSegment out(int at_ms, const std::vector<std::uint8_t>& b) {
  const auto f = forwarded(b);
  return {ms(at_ms), peer_of(sender(b)), true, f, static_cast<std::uint32_t>(f.size())};
}

// What the interceptor logs for a queued segment (its own, later, userspace time).
WireEvent queued(int at_ms, const std::vector<std::uint8_t>& b, Fate fate = Fate::passed, std::uint64_t packet = 1) {
  WireEvent w;
  w.at = ms(at_ms);
  w.segment = parse_segment(b);
  w.bytes = b;
  w.wire_length = static_cast<std::uint32_t>(b.size());
  w.packet = packet;
  w.queued = true;
  w.fate = fate;
  if (fate != Fate::passed) {
    w.fault = 0;
    w.note = std::string(fate_name(fate)) + " by fault 1";
  }
  return w;
}

WireEvent injected(int at_ms, const std::vector<std::uint8_t>& b, std::string note) {
  WireEvent w = queued(at_ms, b);
  w.queued = false;
  w.injected = true;
  w.packet = 0;
  w.note = std::move(note);
  return w;
}

}  // namespace

TEST_CASE("queued segments get their verdicts, the rest pass not queued, in wire order") {
  // Selective capture: the handshake is queued, the data segment is not.
  const std::vector<CapturedSegment> captured{in(0, syn),  out(1, syn),   in(2, syn_ack), out(3, syn_ack),
                                              in(4, ack),  out(5, ack),   in(6, data),    out(7, data)};
  const std::vector<WireEvent> log{queued(10, syn, Fate::passed, 1), queued(11, syn_ack, Fate::passed, 2),
                                   queued(12, ack, Fate::passed, 3)};
  const MergedWire m = merge_wire(captured, log, clients);
  CHECK(m.errors.empty());
  REQUIRE(m.events.size() == 4);
  CHECK(m.events[0].at == ms(0));  // the kernel's ingress time, not the interceptor's
  CHECK(m.events[0].delivered_at == ms(1));
  CHECK(m.events[0].packet == 1);
  CHECK(m.events[0].queued);
  CHECK(m.events[0].info.roles.has(Role::syn));
  CHECK(m.events[1].info.from == Side::server);
  CHECK(m.events[2].info.roles.has(Role::handshake_ack));
  const WireEvent& d = m.events[3];
  CHECK_FALSE(d.queued);
  CHECK(d.fate == Fate::passed);
  CHECK(d.packet == 0);
  CHECK(d.segment.payload_len == 16);
  CHECK(d.info.roles.has(Role::data));
  CHECK(d.info.rel_seq == 1);  // classified with the rest of the wire
  CHECK(d.delivered_at == ms(7));
  CHECK(d.bytes == data);  // as its sender sent it
}

TEST_CASE("a dropped segment is seen entering only") {
  const std::vector<CapturedSegment> captured{in(0, syn), in(1000, syn), out(1001, syn)};
  const std::vector<WireEvent> log{queued(2, syn, Fate::dropped, 1), queued(1002, syn, Fate::passed, 2)};
  const MergedWire m = merge_wire(captured, log, clients);
  CHECK(m.errors.empty());
  REQUIRE(m.events.size() == 2);
  CHECK(m.events[0].fate == Fate::dropped);
  CHECK_FALSE(m.events[0].delivered_at);
  CHECK(m.events[1].fate == Fate::passed);
  CHECK(m.events[1].delivered_at == ms(1001));
  CHECK(m.events[1].info.roles.has(Role::retransmission));
}

TEST_CASE("a delayed segment leaves later, and segments that entered after it left first") {
  const std::vector<CapturedSegment> captured{in(0, syn), out(1, syn), in(2, syn_ack), out(3, syn_ack),
                                              in(4, ack), in(6, data), out(7, data), out(304, ack)};
  std::vector<WireEvent> log{queued(10, syn, Fate::passed, 1), queued(11, syn_ack, Fate::passed, 2),
                             queued(12, ack, Fate::delayed, 3)};
  log.back().released = ms(303);
  const MergedWire m = merge_wire(captured, log, clients);
  CHECK(m.errors.empty());
  REQUIRE(m.events.size() == 4);
  CHECK(m.events[2].fate == Fate::delayed);
  CHECK(m.events[2].at == ms(4));
  CHECK(m.events[2].delivered_at == ms(304));
  CHECK(m.events[2].released == ms(303));  // the interceptor's own time is kept
  CHECK(m.events[3].delivered_at == ms(7));
}

TEST_CASE("an injected segment is seen leaving only") {
  const std::vector<CapturedSegment> captured{in(0, syn), out(1, syn), out(50, rst)};
  const std::vector<WireEvent> log{queued(10, syn, Fate::passed, 1), injected(49, rst, "injected by lab action 1")};
  const MergedWire m = merge_wire(captured, log, clients);
  CHECK(m.errors.empty());
  REQUIRE(m.events.size() == 2);
  const WireEvent& r = m.events[1];
  CHECK(r.injected);
  CHECK(r.at == ms(50));
  CHECK(r.delivered_at == ms(50));
  CHECK(r.note == "injected by lab action 1");
  CHECK(r.info.roles.has(Role::rst));
}

TEST_CASE("on loopback an injected segment is the copy that entered lo with its key, its link passage kept") {
  // lastack wrap: the capture sees lo's xmit copies only (entering), and INPUT's queue lets
  // lastack's own segments by, so the RST's one copy is where it entered.
  const std::vector<CapturedSegment> captured{in(0, syn), in(50, rst)};
  WireEvent sent = injected(50, rst, "RST to the client by fault 1, in place of packet 9");
  LinkPassage p;
  p.due = ms(50);
  p.delay = std::chrono::milliseconds(40);
  sent.link = p;
  sent.released = ms(50);
  const std::vector<WireEvent> log{queued(10, syn, Fate::passed, 1), sent};
  const MergedWire m = merge_wire(captured, log, clients, std::nullopt, false);
  CHECK(m.errors.empty());
  REQUIRE(m.events.size() == 2);
  const WireEvent& r = m.events[1];
  CHECK(r.injected);
  CHECK_FALSE(r.queued);
  CHECK(r.delivered_at == ms(50));
  CHECK(r.note == sent.note);
  CHECK(r.link == sent.link);
  // One the capture never saw is a harness error, as between two namespaces.
  const MergedWire missing = merge_wire({in(0, syn)}, log, clients, std::nullopt, false);
  REQUIRE(missing.errors.size() == 1);
  CHECK_THAT(missing.errors[0].what, Catch::Contains("injected segment") && Catch::Contains("never seen on the wire"));
}

TEST_CASE("a duplicated segment leaves once per copy") {
  const std::vector<CapturedSegment> captured{in(0, syn), out(1, syn), out(2, syn), out(3, syn)};
  const std::vector<WireEvent> log{queued(10, syn, Fate::duplicated, 1), injected(11, syn, "copy 1 of 2"),
                                   injected(12, syn, "copy 2 of 2")};
  const MergedWire m = merge_wire(captured, log, clients);
  CHECK(m.errors.empty());
  REQUIRE(m.events.size() == 3);
  CHECK(m.events[0].fate == Fate::duplicated);
  CHECK(m.events[0].delivered_at == ms(1));
  CHECK(m.events[1].note == "copy 1 of 2");
  CHECK(m.events[1].at == ms(2));
  CHECK(m.events[2].at == ms(3));
  // A copy lastack made repeats the sequence space, but no kernel retransmitted it: a lab copy.
  CHECK_FALSE(m.events[2].info.roles.has(Role::retransmission));
}

TEST_CASE("copies of one key are claimed in capture order, and each one left over is an error") {
  // Three copies of the SYN leave, two are explained: the third is an error, at its own time.
  const std::vector<CapturedSegment> captured{in(0, syn), out(1, syn), out(2, syn), out(9, syn), out(8, rst)};
  const std::vector<WireEvent> log{queued(10, syn, Fate::duplicated, 1), injected(11, syn, "copy 1 of 1")};
  const MergedWire m = merge_wire(captured, log, clients);
  REQUIRE(m.events.size() == 2);
  CHECK(m.events[0].delivered_at == ms(1));
  CHECK(m.events[1].at == ms(2));
  REQUIRE(m.errors.size() == 2);  // in time order: the RST at 8 ms, the third SYN at 9 ms
  CHECK(m.errors[0].at == ms(8));
  CHECK_THAT(m.errors[0].what, Catch::Contains("left the wire but never entered it") && Catch::Contains("R"));
  CHECK(m.errors[1].at == ms(9));
  CHECK_THAT(m.errors[1].what, Catch::Contains("seq 1000000000"));
}

TEST_CASE("wire events come out in time order when the log's injections come last") {
  // The lab's RST is injected before the data enters; the merge appends injections, then sorts.
  const std::vector<CapturedSegment> captured{in(0, syn), out(1, syn), out(3, rst), in(5, data), out(6, data)};
  const std::vector<WireEvent> log{queued(10, syn), injected(2, rst, "injected by lab action 1")};
  const MergedWire m = merge_wire(captured, log, clients);
  CHECK(m.errors.empty());
  REQUIRE(m.events.size() == 3);
  CHECK(m.events[0].at == ms(0));
  CHECK(m.events[1].injected);
  CHECK(m.events[1].at == ms(3));
  CHECK(m.events[2].at == ms(5));
  CHECK(m.events[2].bytes == data);  // moved whole, not mixed up with its neighbours
}

TEST_CASE("a queued segment the capture never saw is a harness error") {
  const std::vector<CapturedSegment> captured{in(0, syn), out(1, syn)};
  const std::vector<WireEvent> log{queued(10, syn, Fate::passed, 1), queued(20, syn_ack, Fate::passed, 2)};
  const MergedWire m = merge_wire(captured, log, clients);
  REQUIRE(m.errors.size() == 1);
  CHECK(m.errors[0].kind == LabEventKind::harness_error);
  CHECK(m.errors[0].cause == HarnessCause::wire_disagrees);
  CHECK_THAT(m.errors[0].what, Catch::Contains("never seen entering") && Catch::Contains("seq 2000000000"));
  CHECK(m.events.size() == 1);
}

TEST_CASE("a capture nothing explains, and a passed segment that never left, are harness errors") {
  SECTION("left without entering") {
    const MergedWire m = merge_wire({in(0, syn), out(1, syn), out(5, rst)}, {queued(10, syn)}, clients);
    REQUIRE(m.errors.size() == 1);
    CHECK_THAT(m.errors[0].what, Catch::Contains("left the wire but never entered it"));
  }
  SECTION("entered, passed, never left") {
    const MergedWire m = merge_wire({in(0, syn), out(1, syn), in(6, data)}, {queued(10, syn)}, clients);
    REQUIRE(m.errors.size() == 1);
    CHECK_THAT(m.errors[0].what, Catch::Contains("never left it (not queued)"));
  }
  SECTION("an unparseable capture") {
    CapturedSegment junk{ms(3), Side::client, false, {0x45, 0x00, 0x00}, 3};
    const MergedWire m = merge_wire({in(0, syn), out(1, syn), junk}, {queued(10, syn)}, clients);
    REQUIRE(m.errors.size() == 1);
    CHECK_THAT(m.errors[0].what, Catch::Contains("cannot parse") && Catch::Contains("450000"));
  }
}

TEST_CASE("a retransmission is matched by its header bytes, not by its time or sequence number") {
  // Both copies of the data are queued; only the second is dropped. The log comes in late and
  // its times say nothing; the checksums (timestamps differ) tell the copies apart.
  const std::vector<CapturedSegment> captured{in(0, syn),  out(1, syn),        in(2, syn_ack), out(3, syn_ack),
                                              in(6, data), in(230, data_again), out(231, data_again)};
  const std::vector<WireEvent> log{queued(10, syn), queued(11, syn_ack), queued(500, data, Fate::dropped, 3),
                                   queued(501, data_again, Fate::passed, 4)};
  const MergedWire m = merge_wire(captured, log, clients);
  CHECK(m.errors.empty());
  REQUIRE(m.events.size() == 4);
  CHECK(m.events[2].fate == Fate::dropped);
  CHECK(m.events[2].packet == 3);
  CHECK(m.events[3].packet == 4);
  CHECK(m.events[3].at == ms(230));
  CHECK(m.events[3].delivered_at == ms(231));
  CHECK(m.events[3].info.roles.has(Role::retransmission));
}

TEST_CASE("segments entering after the run's end are left out, with what they claimed") {
  const std::vector<CapturedSegment> captured{in(0, syn), out(1, syn), in(100, rst)};
  const MergedWire m = merge_wire(captured, {queued(10, syn)}, clients, ms(50));
  CHECK(m.errors.empty());  // it never left, but it belongs to the teardown
  CHECK(m.events.size() == 1);
}

TEST_CASE("a fault decided on roles the whole wire does not give says so in its note") {
  const std::vector<CapturedSegment> captured{in(0, syn), out(1, syn), in(2, syn_ack), out(3, syn_ack),
                                              in(4, ack)};
  std::vector<WireEvent> log{queued(10, syn), queued(11, syn_ack), queued(12, ack, Fate::dropped, 3)};
  log.back().info.roles.add(Role::ack);  // the live tracker knew less: no handshake-ack
  const MergedWire m = merge_wire(captured, log, clients);
  CHECK(m.errors.empty());
  REQUIRE(m.events.size() == 3);
  CHECK_THAT(m.events[2].note, Catch::Contains("decided on roles ack; the whole wire gives handshake-ack,ack"));
}

TEST_CASE("segments that reached the queue in another order than they entered leave in the queue's order") {
  // The ACK entered first, on one CPU; the data, entering on the other, reached the queue first.
  const std::vector<CapturedSegment> captured{in(0, syn), out(1, syn), in(2, syn_ack), out(3, syn_ack),
                                              in(4, ack), in(5, data), out(6, data), out(7, ack)};
  std::vector<WireEvent> log{queued(10, syn, Fate::passed, 1), queued(11, syn_ack, Fate::passed, 2),
                             queued(12, data, Fate::passed, 3), queued(13, ack, Fate::passed, 4)};
  CHECK(merge_wire(captured, log, clients).errors.empty());
  // The queue had them in the order they entered: leaving the other way round is the harness's doing.
  log[2].packet = 4;
  log[3].packet = 3;
  const MergedWire m = merge_wire(captured, log, clients);
  REQUIRE(m.errors.size() == 1);
  CHECK(m.errors[0].cause == HarnessCause::wire_reordered);
  CHECK(m.errors[0].what.find("the harness reordered the wire: P. seq 1 from client entered after seq 1") !=
        std::string::npos);
}
