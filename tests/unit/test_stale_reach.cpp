// stale-from's precondition: an old connection's segments can only land in a later one whose
// sequence numbers start inside the old sequence space; otherwise the check is not checked.
#include <catch2/catch.hpp>

#include "harness/core/oracle/expect/expectations.hpp"
#include "harness/core/trace/stale_reach.hpp"
#include "tests/unit/findings.hpp"
#include "tests/unit/trace_builder.hpp"

using namespace lastack;
using namespace lastack::testing;
using Catch::Matchers::Contains;
using enum Role;

namespace {

constexpr Side client = Side::client;
constexpr Side server = Side::server;

// A client segment of connection `c` (0-based) at absolute sequence number `seq`.
void client_segment(TraceBuilder& b, double at, std::size_t c, std::uint32_t seq, std::string_view flags,
                    std::uint32_t len) {
  WireEvent& w = b.wire(at, client, flags, 0, 0, len, {});
  w.segment.seq = SeqNum(seq);
  w.info.connection = ConnectionIndex{c};
}

// Connection 1 sends `sent` bytes from ISN `isn1` and closes; connection 2 opens at ISN `isn2`,
// 300 ms later; the server reads `read` bytes in all, none of them old.
TraceBuilder two_connections(std::uint32_t isn1, std::uint32_t sent, std::uint32_t isn2, std::uint64_t read) {
  TraceBuilder b;
  client_segment(b, 0, 0, isn1, "S", 0);
  client_segment(b, 1, 0, isn1 + 1, "P.", sent);
  client_segment(b, 2, 0, isn1 + 1 + sent, "F.", 0);
  client_segment(b, 300, 1, isn2, "S", 0);
  client_segment(b, 301, 1, isn2 + 1, "P.", 1000);
  b.app(302, server, "recv-until-eof", "eof", read);
  return b;
}

AppExpect stale_from_1(std::optional<std::uint64_t> received = std::nullopt) {
  AppExpect x;
  x.side = server;
  x.stale_from = ConnectionNumber{1};
  x.received = received;
  return x;
}

}  // namespace

TEST_CASE("stale-from is not checked when the later connection starts past the old bytes") {
  // 8 MiB sent, but the ISN clock moved 14 M in the 300 ms: every old segment is below the window.
  // The ISNs straddle 2^32: the arithmetic is modular.
  const std::uint32_t isn1 = 4'290'000'000u;
  auto b = two_connections(isn1, 8'388'608, isn1 + 14'000'000, 8'389'608);
  const auto why = stale_out_of_reach(b.trace, client, ConnectionIndex{0});
  REQUIRE(why);
  CHECK_THAT(*why, Contains("connection 2's client sequence numbers start 14000001 past connection 1's ISN, "
                            "300 ms later, beyond the 8388610 connection 1 used"));
  CHECK_THAT(*why, Contains("connection 1 was slower than the ISN clock, so none of its segments could land"));
  const auto r = check_app(b.trace, stale_from_1(8'389'608));
  CHECK(r.outcome == Outcome::not_checked);
  CHECK(why_not(r) == Unjudged::out_of_reach);
  CHECK(seen<AppSeen>(r).problems == std::vector<AppMiss>{AppMiss::no_stale});
  CHECK_THAT(r.saw, Contains("no bytes of connection 1 in what it read: connection 1 was slower than the ISN clock"));
}

TEST_CASE("stale-from still fails when the later connection starts inside the old bytes") {
  const std::uint32_t isn1 = 1'000'000;
  auto b = two_connections(isn1, 8'388'608, isn1 + 3'000'000, 8'389'608);
  CHECK_FALSE(stale_out_of_reach(b.trace, client, ConnectionIndex{0}));
  CHECK(check_app(b.trace, stale_from_1()).outcome == Outcome::fail);
  // Starting exactly at the old connection's end is past it: nothing old can be new there.
  auto at_end = two_connections(isn1, 1000, isn1 + 1002, 2000);
  CHECK(stale_out_of_reach(at_end.trace, client, ConnectionIndex{0}));
  auto one_short = two_connections(isn1, 1000, isn1 + 1000, 2000);
  CHECK_FALSE(stale_out_of_reach(one_short.trace, client, ConnectionIndex{0}));
  // A later connection "before" the old ISN (the clock cannot go back; a different hash can).
  auto before = two_connections(isn1, 1000, isn1 - 5000, 2000);
  CHECK_FALSE(stale_out_of_reach(before.trace, client, ConnectionIndex{0}));
}

TEST_CASE("stale-from's precondition never excuses another problem, nor a missing SYN") {
  const std::uint32_t isn1 = 1'000'000;
  // Out of reach, but the server also read the wrong amount: that fails on its own.
  auto b = two_connections(isn1, 1000, isn1 + 5'000'000, 1500);
  CHECK(check_app(b.trace, stale_from_1(2000)).outcome == Outcome::fail);
  // No later connection: nothing to say.
  TraceBuilder one;
  client_segment(one, 0, 0, isn1, "S", 0);
  client_segment(one, 1, 0, isn1 + 1, "P.", 1000);
  one.app(2, server, "recv-until-eof", "eof", 1000);
  CHECK_FALSE(stale_out_of_reach(one.trace, client, ConnectionIndex{0}));
  CHECK(check_app(one.trace, stale_from_1()).outcome == Outcome::fail);
  // A later connection from another port is another four-tuple: not judged by this one's ISN.
  auto other_port = two_connections(isn1, 1000, isn1 + 5'000'000, 2000);
  for (auto& e : other_port.trace.events)
    if (auto* w = std::get_if<WireEvent>(&e); w && w->info.connection == ConnectionIndex{1}) w->segment.sport = 40001;
  CHECK_FALSE(stale_out_of_reach(other_port.trace, client, ConnectionIndex{0}));
}

TEST_CASE("stale-from passes on old bytes whatever the ISNs say") {
  const std::uint32_t isn1 = 1'000'000;
  auto b = two_connections(isn1, 1000, isn1 + 5'000'000, 2000);
  auto& read = std::get<AppEvent>(b.trace.events.back());
  read.agent_step()->corrupted = ByteRange{0, 100};
  read.agent_step()->corrupted_from = PatternOrigin{client, 0, 500};
  CHECK(check_app(b.trace, stale_from_1(2000)).outcome == Outcome::pass);
}
