// The pcapng export, read back with a small reader written here from the format's text
// (not from the writer), so a shared misreading of the format cannot hide.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "harness/core/record/pcapng.hpp"
#include "harness/core/wire/segment_builder.hpp"
#include "tests/unit/trace_builder.hpp"

using namespace lastack;
using namespace lastack::testing;
using Catch::Matchers::Contains;
using enum Role;

namespace {

constexpr Side client = Side::client, server = Side::server;

// 2023-11-14 22:13:20.000250 UTC: a timestamp whose nanoseconds need the high 32-bit word.
const std::chrono::sys_time<std::chrono::nanoseconds> wall_start{
    std::chrono::seconds(1'700'000'000) + std::chrono::microseconds(250)};
constexpr std::uint64_t wall_start_ns = 1'700'000'000'000'250'000;

std::uint32_t le16(const std::vector<std::uint8_t>& b, std::size_t at) {
  REQUIRE(at + 2 <= b.size());
  return b[at] | (b[at + 1] << 8);
}

std::uint32_t le32(const std::vector<std::uint8_t>& b, std::size_t at) {
  REQUIRE(at + 4 <= b.size());
  return std::uint32_t{b[at]} | (std::uint32_t{b[at + 1]} << 8) | (std::uint32_t{b[at + 2]} << 16) |
         (std::uint32_t{b[at + 3]} << 24);
}

struct Option {
  std::uint16_t code = 0;
  std::string value;
};

struct Block {
  std::uint32_t type = 0;
  std::vector<std::uint8_t> body;  // between the two length fields
};

struct Packet {
  std::uint32_t interface = 0;
  std::uint64_t nanos = 0;  // both interfaces say if_tsresol 9
  std::uint32_t captured = 0, original = 0;
  std::vector<std::uint8_t> data;
  std::vector<Option> options;
};

// Walks the blocks, checking the framing every block must have.
std::vector<Block> read_blocks(const std::vector<std::uint8_t>& file) {
  std::vector<Block> blocks;
  std::size_t at = 0;
  while (at < file.size()) {
    const std::uint32_t type = le32(file, at);
    const std::uint32_t total = le32(file, at + 4);
    REQUIRE(total % 4 == 0);
    REQUIRE(total >= 12);
    REQUIRE(at + total <= file.size());
    REQUIRE(le32(file, at + total - 4) == total);
    blocks.push_back({type, std::vector<std::uint8_t>(file.begin() + at + 8, file.begin() + at + total - 4)});
    at += total;
  }
  REQUIRE(at == file.size());
  return blocks;
}

// Options from `at` to the end of `body`, which must close with opt_endofopt.
std::vector<Option> read_options(const std::vector<std::uint8_t>& body, std::size_t at) {
  std::vector<Option> options;
  for (;;) {
    const auto code = static_cast<std::uint16_t>(le16(body, at));
    const auto length = le16(body, at + 2);
    at += 4;
    if (code == 0) {
      REQUIRE(length == 0);
      REQUIRE(at == body.size());
      return options;
    }
    REQUIRE(at + length <= body.size());
    options.push_back({code, std::string(body.begin() + at, body.begin() + at + length)});
    at += (length + 3) / 4 * 4;
  }
}

std::vector<std::string> values(const std::vector<Option>& options, std::uint16_t code) {
  std::vector<std::string> out;
  for (const auto& o : options)
    if (o.code == code) out.push_back(o.value);
  return out;
}

Packet read_packet(const Block& block) {
  REQUIRE(block.type == 6);
  const auto& b = block.body;
  Packet p;
  p.interface = le32(b, 0);
  p.nanos = (std::uint64_t{le32(b, 4)} << 32) | le32(b, 8);
  p.captured = le32(b, 12);
  p.original = le32(b, 16);
  REQUIRE(20 + p.captured <= b.size());
  p.data.assign(b.begin() + 20, b.begin() + 20 + p.captured);
  const std::size_t padded = (p.captured + 3) / 4 * 4;
  for (std::size_t i = 20 + p.captured; i < 20 + padded; ++i) REQUIRE(b[i] == 0);
  p.options = read_options(b, 20 + padded);
  return p;
}

std::vector<Packet> read_packets(const std::vector<std::uint8_t>& file) {
  std::vector<Packet> packets;
  for (const Block& block : read_blocks(file))
    if (block.type == 6) packets.push_back(read_packet(block));
  return packets;
}

std::string comment_of(const Packet& p) {
  const auto comments = values(p.options, 1);
  REQUIRE(comments.size() == 1);
  return comments[0];
}

// The IP packet a wire event describes, with `payload_len` bytes of payload.
std::vector<std::uint8_t> packet_of(const Segment& s) {
  SegmentSpec spec;
  spec.src = s.src;
  spec.dst = s.dst;
  spec.sport = s.sport;
  spec.dport = s.dport;
  spec.seq = s.seq;
  spec.ack = s.ack;
  spec.flags = s.flags;
  spec.window = s.window;
  spec.payload.assign(s.payload_len, 'x');
  return build_segment(spec);
}

// Gives every wire event its packet; the data segment is cut after 3 payload bytes, as a
// header-sized NFQUEUE copy range would cut it.
void attach_packets(Trace& trace) {
  for (auto& e : trace.events) {
    auto* w = std::get_if<WireEvent>(&e);
    if (!w) continue;
    w->bytes = packet_of(w->segment);
    w->wire_length = static_cast<std::uint32_t>(w->bytes.size());
    if (w->segment.payload_len > 0) w->bytes.resize(w->bytes.size() - w->segment.payload_len + 3);
  }
}

// The drop-final-ack run with packets, a kernel and a wall-clock start.
Trace captured_run() {
  Trace trace = drop_final_ack_trace();
  trace.kernel = "6.1.0-test-amd64";
  trace.wall_start = wall_start;
  attach_packets(trace);
  return trace;
}

std::vector<const WireEvent*> wire_events(const Trace& trace) {
  std::vector<const WireEvent*> out;
  for (const auto& e : trace.events)
    if (const auto* w = std::get_if<WireEvent>(&e)) out.push_back(w);
  return out;
}

}  // namespace

TEST_CASE("pcapng: the file is a section header, two interfaces, then packet blocks") {
  const auto blocks = read_blocks(pcapng_bytes(captured_run()));
  REQUIRE(blocks.size() == 3 + 11);
  CHECK(blocks[0].type == 0x0A0D0D0A);
  CHECK(blocks[1].type == 1);
  CHECK(blocks[2].type == 1);
  for (std::size_t i = 3; i < blocks.size(); ++i) CHECK(blocks[i].type == 6);
}

TEST_CASE("pcapng: every block is 32-bit aligned and framed by two equal lengths") {
  const auto file = pcapng_bytes(captured_run());
  CHECK(file.size() % 4 == 0);
  std::size_t at = 0, blocks = 0;
  while (at < file.size()) {
    const auto total = le32(file, at + 4);
    CHECK(total % 4 == 0);
    CHECK(le32(file, at + total - 4) == total);
    at += total;
    ++blocks;
  }
  CHECK(at == file.size());
  CHECK(blocks == 14);
}

TEST_CASE("pcapng: the section header is little-endian version 1.0 from lastack, naming policy and kernel") {
  const auto blocks = read_blocks(pcapng_bytes(captured_run()));
  const auto& shb = blocks.at(0).body;
  CHECK(le32(shb, 0) == 0x1A2B3C4D);
  CHECK(le16(shb, 4) == 1);
  CHECK(le16(shb, 6) == 0);
  CHECK(le32(shb, 8) == 0xFFFFFFFFu);  // section length: not given
  CHECK(le32(shb, 12) == 0xFFFFFFFFu);
  const auto options = read_options(shb, 16);
  CHECK(values(options, 4) == std::vector<std::string>{"lastack"});
  CHECK(values(options, 3) == std::vector<std::string>{"Linux 6.1.0-test-amd64"});
  const auto comments = values(options, 1);
  REQUIRE(comments.size() == 1);
  CHECK_THAT(comments[0], Contains("policy 'test-policy'"));
  CHECK_THAT(comments[0], Contains("6.1.0-test-amd64"));
  CHECK_THAT(comments[0], Contains("checksums may be unverified"));
}

TEST_CASE("pcapng: the endpoints' interface carries raw IP, lastack's USER0, both with nanosecond timestamps") {
  const auto blocks = read_blocks(pcapng_bytes(captured_run()));
  for (const std::size_t i : {1, 2}) {
    const auto& idb = blocks.at(i).body;
    CHECK(le16(idb, 0) == (i == 1 ? 101 : 147));  // LINKTYPE_RAW; LINKTYPE_USER0: no TCP analysis
    CHECK(le16(idb, 2) == 0);
    CHECK(le32(idb, 4) == 0);  // snaplen: no limit
    const auto options = read_options(idb, 8);
    CHECK(values(options, 2) == std::vector<std::string>{i == 1 ? "wire" : "lastack"});
    CHECK(values(options, 9) == std::vector<std::string>{std::string(1, '\x09')});  // if_tsresol: 10^-9 s
  }
}

TEST_CASE("pcapng: one packet block per wire event, in trace order, at the time it entered the wire") {
  const Trace trace = captured_run();
  const auto packets = read_packets(pcapng_bytes(trace));
  const auto wire = wire_events(trace);
  REQUIRE(packets.size() == wire.size());
  for (std::size_t i = 0; i < packets.size(); ++i) {
    INFO("packet " << i);
    CHECK(packets[i].interface == 0);
    CHECK(packets[i].nanos == wall_start_ns + static_cast<std::uint64_t>(ns_since_start(wire[i]->at)));
  }
  CHECK(packets.front().nanos == wall_start_ns);
  CHECK(std::is_sorted(packets.begin(), packets.end(),
                       [](const Packet& a, const Packet& b) { return a.nanos < b.nanos; }));
}

TEST_CASE("pcapng: timestamps are nanoseconds, split over the high and low words") {
  TraceBuilder b;
  b.trace.wall_start = wall_start;
  b.wire(0, client, "S", 0, 0, 0, {syn}).at = instant_from_ns(2'000'999);  // 2000.999 us
  attach_packets(b.trace);
  const auto blocks = read_blocks(pcapng_bytes(b.trace));
  const auto& epb = blocks.at(3).body;
  const std::uint64_t expected = wall_start_ns + 2'000'999;
  CHECK(le32(epb, 4) == static_cast<std::uint32_t>(expected >> 32));
  CHECK(le32(epb, 8) == static_cast<std::uint32_t>(expected & 0xFFFFFFFFu));
  CHECK(le32(epb, 4) != 0);
}

TEST_CASE("pcapng: a packet block holds the captured bytes, its original length is the wire length") {
  const Trace trace = captured_run();
  const auto packets = read_packets(pcapng_bytes(trace));
  const auto wire = wire_events(trace);
  REQUIRE(packets.size() == wire.size());
  for (std::size_t i = 0; i < packets.size(); ++i) {
    INFO("packet " << i);
    CHECK(packets[i].data == wire[i]->bytes);
    CHECK(packets[i].captured == wire[i]->bytes.size());
    CHECK(packets[i].original == wire[i]->wire_length);
  }
  // The data segment was cut by the copy range: 20 + 20 header bytes + 3 of its 1000.
  const Packet& data = packets.at(3);
  CHECK(data.captured == 43);
  CHECK(data.original == 1040);
}

TEST_CASE("pcapng: comments carry the roles and what the wire did") {
  const auto packets = read_packets(pcapng_bytes(captured_run()));
  REQUIRE(packets.size() == 11);
  CHECK(comment_of(packets[0]) == "syn | passed");
  CHECK(comment_of(packets[7]) == "fin,second-fin | passed");
  CHECK(comment_of(packets[8]) == "ack,final-ack | dropped by fault 1: final-ack | never reached its receiver");
  CHECK(comment_of(packets[9]) == "fin,second-fin,retransmission | passed");
}

TEST_CASE("pcapng: a held segment appears once, when its sender sent it, its release in the comment") {
  TraceBuilder b;
  b.trace.wall_start = wall_start;
  auto& held = b.wire(10, server, "F.", 1, 1, 0, {fin, second_fin}, Fate::held);
  held.released = ms(30);
  held.delivered_at = ms(30.2);
  held.fault = 0;
  held.note = "held by fault 1: second-fin (released by ack from client, released after 20 ms)";
  b.wire(20, client, ".", 1, 1, 0, {ack});
  attach_packets(b.trace);
  const auto packets = read_packets(pcapng_bytes(b.trace));
  REQUIRE(packets.size() == 2);
  CHECK(packets[0].nanos == wall_start_ns + 10'000'000);
  CHECK(comment_of(packets[0]) ==
        "fin,second-fin | held by fault 1: second-fin (released by ack from client, released after 20 ms) | "
        "reached its receiver 20.200 ms later");
  CHECK(packets[1].nanos == wall_start_ns + 20'000'000);
  CHECK(comment_of(packets[1]) == "ack | passed");
}

TEST_CASE("pcapng: a dropped segment has one block, where it was sent") {
  TraceBuilder b;
  auto& dropped = b.wire(5, client, ".", 1, 1, 0, {ack, final_ack}, Fate::dropped);
  dropped.note = "dropped by fault 1: final-ack";
  attach_packets(b.trace);
  const auto packets = read_packets(pcapng_bytes(b.trace));
  REQUIRE(packets.size() == 1);
  CHECK(comment_of(packets[0]) == "ack,final-ack | dropped by fault 1: final-ack | never reached its receiver");
}

TEST_CASE("pcapng: a segment lastack made goes on its own interface, out of the TCP analysis, and says so") {
  TraceBuilder b;
  auto& rst = b.wire(5, server, "R", 1, 0, 0, {Role::rst});
  rst.injected = true;
  rst.note = "injected by lab action 1: inject-rst";
  auto& bare = b.wire(6, server, "R", 1, 0, 0, {Role::rst});
  bare.injected = true;
  b.wire(7, client, ".", 1, 1, 0, {ack});
  attach_packets(b.trace);
  const auto packets = read_packets(pcapng_bytes(b.trace));
  REQUIRE(packets.size() == 3);
  CHECK(packets[0].interface == 1);
  CHECK(comment_of(packets[0]) == "made by lastack: rst | injected by lab action 1: inject-rst");
  CHECK(packets[1].interface == 1);
  CHECK(comment_of(packets[1]) == "made by lastack: rst | injected");
  CHECK(packets[2].interface == 0);
}

TEST_CASE("pcapng: a trace without wire events is a valid file with no packets") {
  TraceBuilder b;
  b.lab(1, "settled");
  const auto blocks = read_blocks(pcapng_bytes(b.trace));
  REQUIRE(blocks.size() == 3);
  CHECK(blocks[0].type == 0x0A0D0D0A);
  CHECK(blocks[1].type == 1);
  CHECK(blocks[2].type == 1);
}

TEST_CASE("pcapng: write_pcapng writes exactly pcapng_bytes") {
  const Trace trace = captured_run();
  std::ostringstream out;
  write_pcapng(trace, out);
  const std::string written = out.str();
  const auto expected = pcapng_bytes(trace);
  CHECK(std::vector<std::uint8_t>(written.begin(), written.end()) == expected);
}

TEST_CASE("pcapng: from the whole wire, a segment no rule queued says so, and a delayed one says when it arrived") {
  TraceBuilder b;
  b.trace.wall_start = wall_start;
  b.trace.whole_wire = true;
  auto& queued = b.wire(1, client, "S", 0, 0, 0, {syn});
  queued.queued = true;
  queued.delivered_at = ms(1.1);
  b.wire(2, client, "P.", 1, 1, 1000, {data}).delivered_at = ms(2.1);
  auto& delayed = b.wire(3, client, ".", 1001, 1, 0, {ack}, Fate::delayed);
  delayed.queued = true;
  delayed.fault = 0;
  delayed.note = "delayed by fault 1: ack";
  delayed.released = ms(52.5);   // the interceptor's verdict (userspace)
  delayed.delivered_at = ms(53);  // the capture: when it left wire
  attach_packets(b.trace);
  const auto packets = read_packets(pcapng_bytes(b.trace));
  REQUIRE(packets.size() == 3);
  CHECK(comment_of(packets[0]) == "syn | passed | reached its receiver 0.100 ms later");
  CHECK(comment_of(packets[1]) == "data | passed (not queued) | reached its receiver 0.100 ms later");
  CHECK(packets[2].nanos == wall_start_ns + 3'000'000);
  CHECK(comment_of(packets[2]) == "ack | delayed by fault 1: ack | reached its receiver 50.000 ms later");
}
