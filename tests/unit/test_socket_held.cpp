// check = "socket-held": how it parses, and that it passes, fails naming the socket, and says
// "not checked" where the trace cannot tell, on constructed traces (traced and sampled).
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>
#include <string>

#include "lastack/error.hpp"
#include "harness/core/oracle/expect/expectations.hpp"
#include "lastack/oracle.hpp"
#include "lastack/policy_parser.hpp"
#include "lastack/report.hpp"
#include "harness/core/record/trace_reader.hpp"
#include "tests/unit/findings.hpp"
#include "tests/unit/trace_builder.hpp"
#include "tests/unit/trace_mutations.hpp"
#include "lastack/trace_jsonl.hpp"
#include "harness/core/oracle/checks.hpp"

using namespace lastack;
using namespace lastack::testing;
using Catch::Matchers::Contains;
using enum Role;

namespace {

constexpr Side client = Side::client, server = Side::server;
using S = TcpState;

std::string expect_error(const std::string& expect_lines) {
  try {
    (void)parse_policy("name = \"t\"\n[scenario]\nclient = [\"connect\"]\nserver = [\"accept\"]\n[[expect]]\n" +
                           expect_lines,
                       "t.toml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

SocketHeldExpect parse_held(const std::string& expect_lines) {
  const Policy p = parse_policy(
      "name = \"t\"\n[scenario]\nclient = [\"connect\"]\nserver = [\"accept\"]\n[[expect]]\n" + expect_lines, "t.toml");
  REQUIRE(p.expect.size() == 1);
  return std::get<SocketHeldExpect>(p.expect.front());
}

// The client connects, sends 5 bytes, half-closes and leaves at 3 ms; the server reads to EOF
// and never closes: its socket sits in CLOSE_WAIT from 2.05 ms to the end at 1202.05 ms.
// Exact states (tracepoints), as a run as root records them.
Trace leaky_traced() {
  TraceBuilder b;
  b.wire(0.0, client, "S", 0, 0, 0, {syn});
  b.wire(0.1, server, "S.", 0, 1, 0, {syn_ack});
  b.wire(0.2, client, ".", 1, 1, 0, {handshake_ack, ack});
  b.wire(1.0, client, "P.", 1, 1, 5, {data});
  b.wire(1.1, server, "P.", 1, 6, 5, {data});
  b.wire(2.0, client, "F.", 6, 6, 0, {fin, first_fin});
  b.wire(2.1, server, ".", 6, 7, 0, {ack, first_fin_ack});
  b.state(0.0, client, S::CLOSE, S::SYN_SENT);
  b.state(0.15, client, S::SYN_SENT, S::ESTABLISHED);
  b.state(0.25, server, S::LISTEN, S::SYN_RECV);
  b.state(0.25, server, S::SYN_RECV, S::ESTABLISHED);
  b.state(2.0, client, S::ESTABLISHED, S::FIN_WAIT1);
  b.state(2.05, server, S::ESTABLISHED, S::CLOSE_WAIT);
  b.state(2.15, client, S::FIN_WAIT1, S::FIN_WAIT2);
  b.trace.kernel_source = KernelSource::traced;
  b.trace.timewait_overflow.client = 0;
  b.trace.timewait_overflow.server = 0;
  b.trace.observed_until = ms(1202.05);
  sort_by_time(b.trace);
  return b.trace;
}

// The same run with the server closing at 52.3 ms (the fixed server), still traced.
Trace fixed_traced() {
  Trace t = leaky_traced();
  TraceBuilder b;
  b.trace = t;
  b.wire(52.3, server, "F.", 11, 7, 0, {fin, second_fin});
  b.wire(52.4, client, ".", 7, 12, 0, {ack, final_ack});
  b.state(52.25, server, S::CLOSE_WAIT, S::LAST_ACK);
  b.state(52.35, client, S::FIN_WAIT2, S::CLOSE);  // hands over to a timewait socket
  b.state(52.45, server, S::LAST_ACK, S::CLOSE);
  sort_by_time(b.trace);
  return b.trace;
}

// The leaky run as a sampled observer (no BPF) records it: sock_diag changes every 2 ms.
Trace leaky_sampled() {
  Trace t = leaky_traced();
  std::erase_if(t.events, [](const TraceEvent& e) { return std::holds_alternative<StateChange>(e); });
  TraceBuilder b;
  b.trace = t;
  b.socket(0.0, client, S::SYN_SENT);
  b.socket(0.2, client, S::ESTABLISHED);
  b.socket(0.3, server, S::ESTABLISHED);
  b.socket(2.0, client, S::FIN_WAIT1);
  b.socket(2.2, client, S::FIN_WAIT2);
  b.socket(2.2, server, S::CLOSE_WAIT);
  b.trace.kernel_source = KernelSource::sampled;
  sort_by_time(b.trace);
  return b.trace;
}

SocketHeldExpect held(std::optional<Side> side, std::optional<Millis> longer_than = std::nullopt) {
  SocketHeldExpect x;
  x.side = side;
  x.longer_than = longer_than;
  x.line = 7;
  return x;
}

}  // namespace

TEST_CASE("socket-held parses side, one state or several, and longer-than, defaults any side, CLOSE_WAIT, at the end") {
  const SocketHeldExpect plain = parse_held("check = \"socket-held\"\n");
  CHECK_FALSE(plain.side.has_value());
  CHECK(plain.states == std::vector<TcpState>{S::CLOSE_WAIT});
  CHECK_FALSE(plain.longer_than.has_value());
  CHECK(plain.line == 5);

  const SocketHeldExpect full =
      parse_held("check = \"socket-held\"\nside = \"server\"\nstate = [\"CLOSE_WAIT\", \"fin-wait-2\"]\nlonger-than = \"500ms\"\n");
  CHECK(full.side == SideRef(server));
  CHECK(full.states == std::vector<TcpState>{S::CLOSE_WAIT, S::FIN_WAIT2});
  CHECK(full.longer_than == Millis(500));
  CHECK_FALSE(parse_held("check = \"socket-held\"\nside = \"any\"\nstate = \"LAST_ACK\"\n").side.has_value());
}

TEST_CASE("socket-held rejects a closed state, an unknown state or side, a bare number and unknown keys in one line") {
  CHECK(expect_error("check = \"socket-held\"\nstate = \"CLOSED\"\n") ==
        "t.toml:7: state cannot be \"CLOSED\": a closed socket is gone, not held");
  CHECK_THAT(expect_error("check = \"socket-held\"\nstate = [\"CLOSE_WAIT\", \"HALF_OPEN\"]\n"),
             Contains("t.toml:7: unknown state \"HALF_OPEN\" (expected one of: ESTABLISHED"));
  CHECK(expect_error("check = \"socket-held\"\nstate = [\"CLOSE_WAIT\", \"CLOSE-WAIT\"]\n") ==
        "t.toml:7: state lists \"CLOSE_WAIT\" twice");
  CHECK(expect_error("check = \"socket-held\"\nstate = []\n") == "t.toml:7: state must name at least one state");
  CHECK(expect_error("check = \"socket-held\"\nside = \"both\"\n") ==
        "t.toml:7: unknown side \"both\" (expected one of: client, server, first-closer, second-closer, any)");
  CHECK_THAT(expect_error("check = \"socket-held\"\nlonger-than = 500\n"), Contains("t.toml:7: "));
  CHECK_THAT(expect_error("check = \"socket-held\"\ncount = 1\n"), Contains("t.toml:7: unknown key \"count\""));
  CHECK_THAT(expect_error("check = \"socket-helt\"\n"), Contains("socket-held"));
}

TEST_CASE("socket-held fails on the leaked CLOSE_WAIT, naming the socket and how long it was held") {
  const CheckResult r = check_expectation(leaky_traced(), held(server));
  INFO(r.saw);
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.finding.check.kind == CheckKind::socket_held);
  CHECK(claim<HeldClaim>(r) == HeldClaim{{S::CLOSE_WAIT}, std::nullopt});
  const HoldsSeen& seen_holds = seen<HoldsSeen>(r);
  REQUIRE(seen_holds.held.size() == 1);
  const HoldSeen& h = seen_holds.held.front();
  CHECK(h.socket.side == server);
  CHECK(h.socket.local == IpAddress::parse("198.18.2.2"));
  CHECK(h.socket.local_port == 8080);
  CHECK(h.socket.remote_port == 40000);
  CHECK(h.socket.connection == ConnectionNumber{1});
  CHECK(h.state == S::CLOSE_WAIT);
  CHECK(h.exact);
  CHECK(h.at_end);
  CHECK(h.at_least > std::chrono::seconds(1));
  // The words the reports print, rendered from that finding.
  CHECK(r.name == "no server socket held in CLOSE_WAIT at the end");
  CHECK(r.saw == "server socket 198.18.2.2:8080 ← 198.18.1.2:40000 (connection 1) held CLOSE_WAIT for 1.20 s, "
                 "still in it at the end");
  // Any side finds the same socket; longer-than finds it too.
  CHECK(check_expectation(leaky_traced(), held(std::nullopt)).outcome == Outcome::fail);
  const CheckResult longer = check_expectation(leaky_traced(), held(server, Millis(500)));
  CHECK(longer.outcome == Outcome::fail);
  CHECK(longer.name == "no server socket held in CLOSE_WAIT longer than 500 ms");
}

TEST_CASE("socket-held names a side by the order of closing: the second closer is the one that leaked") {
  const SocketHeldExpect parsed = parse_held("check = \"socket-held\"\nside = \"second-closer\"\n");
  CHECK(parsed.side == SideRef::second_closer());
  SocketHeldExpect x = held(std::nullopt);
  x.side = SideRef::second_closer();  // the client half-closed first: the server is the second closer
  const CheckResult r = check_expectation(leaky_traced(), x);
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.finding.check.subject.side == SideRef::second_closer());
  CHECK(r.finding.check.subject.resolved == server);
  REQUIRE(seen<HoldsSeen>(r).held.size() == 1);
  CHECK(seen<HoldsSeen>(r).held.front().socket.side == server);
  x.side = SideRef::first_closer();
  CHECK(check_expectation(leaky_traced(), x).outcome == Outcome::pass);
}

TEST_CASE("socket-held passes on the fixed server and says how long CLOSE_WAIT lasted") {
  const CheckResult r = check_expectation(fixed_traced(), held(server));
  INFO(r.saw);
  CHECK(r.outcome == Outcome::pass);
  const HoldsSeen& fixed = seen<HoldsSeen>(r);
  CHECK(fixed.sockets == 1);
  CHECK(fixed.held.empty());
  REQUIRE(fixed.longest);
  CHECK(fixed.longest->state == S::CLOSE_WAIT);
  CHECK_FALSE(fixed.longest->at_end);
  CHECK(fixed.longest->at_least < std::chrono::milliseconds(100));
  CHECK_THAT(r.saw, Contains("1 server socket observed"));
  CHECK(check_expectation(fixed_traced(), held(server, Millis(500))).outcome == Outcome::pass);
  // The client never is in CLOSE_WAIT: a pass, with nothing held.
  const CheckResult c = check_expectation(fixed_traced(), held(client));
  CHECK(c.outcome == Outcome::pass);
  CHECK_FALSE(seen<HoldsSeen>(c).longest);
  CHECK_THAT(c.saw, Contains("none entered CLOSE_WAIT"));
}

TEST_CASE("socket-held longer-than fails on a hold past the bound even when the socket closed later") {
  const CheckResult r = check_expectation(fixed_traced(), held(server, Millis(10)));
  CHECK(r.outcome == Outcome::fail);
  REQUIRE(seen<HoldsSeen>(r).held.size() == 1);
  const HoldSeen& h = seen<HoldsSeen>(r).held.front();
  CHECK(h.exact);
  CHECK_FALSE(h.at_end);
  CHECK(h.at_least > std::chrono::milliseconds(10));
}

TEST_CASE("socket-held is not checked without any socket state, never passed") {
  Trace wire_only = leaky_traced();
  std::erase_if(wire_only.events, [](const TraceEvent& e) { return std::holds_alternative<StateChange>(e); });
  for (const Trace& t : {Trace{}, wire_only}) {
    const CheckResult r = check_expectation(t, held(server));
    CHECK(r.outcome == Outcome::not_checked);
    CHECK(why_not(r) == Unjudged::no_socket_states);
    CHECK(r.saw == "no socket states observed for the server");
  }
}

TEST_CASE("socket-held on sampled states: a CLOSE_WAIT sampled at the end fails, the hold is a lower bound") {
  const CheckResult r = check_expectation(leaky_sampled(), held(server));
  INFO(r.saw);
  CHECK(r.outcome == Outcome::fail);
  REQUIRE(seen<HoldsSeen>(r).held.size() == 1);
  const HoldSeen& h = seen<HoldsSeen>(r).held.front();
  CHECK_FALSE(h.exact);  // a lower bound: the change lies between two samples
  CHECK(h.at_end);
  CHECK(h.at_least > std::chrono::seconds(1));
}

TEST_CASE("socket-held on sampled states: not seen is proof only for holds sampling cannot miss") {
  // The client never sampled in CLOSE_WAIT: a hold over 100 ms would have been seen.
  CHECK(check_expectation(leaky_sampled(), held(client, Millis(100))).outcome == Outcome::pass);
  // One under the blind spot (2 samples + host latency) could have been missed.
  const CheckResult blind = check_expectation(leaky_sampled(), held(client, Millis(1)));
  CHECK(blind.outcome == Outcome::not_checked);
  const auto spot = seen<HoldsSeen>(blind).blind_spot;
  REQUIRE(spot);
  CHECK(*spot > std::chrono::milliseconds(20));
  CHECK(*spot < std::chrono::milliseconds(30));
  CHECK_THAT(blind.saw, Contains("a hold shorter than 24 ms between two samples can be missed"));
}

TEST_CASE("socket-held on sampled states: a state sampled just before segments at the end is not known") {
  Trace t = leaky_sampled();
  TraceBuilder b;
  b.trace = t;
  b.wire(1202.0, client, ".", 7, 11, 0, {ack});  // activity in the last sample interval
  const CheckResult r = check_expectation(b.trace, held(server));
  CHECK(r.outcome == Outcome::not_checked);
  const auto& unknowns = seen<HoldsSeen>(r).unknowns;
  REQUIRE(unknowns.size() == 1);
  CHECK(unknowns.front().doubt == HoldDoubt::sampled_at_end);
  CHECK(unknowns.front().state == S::CLOSE_WAIT);
  CHECK(unknowns.front().socket.side == server);
}

TEST_CASE("socket-held longer-than is not checked when the run ended before the bound, still in the state") {
  const CheckResult r = check_expectation(leaky_traced(), held(server, Millis(5000)));
  CHECK(r.outcome == Outcome::not_checked);
  const auto& unknowns = seen<HoldsSeen>(r).unknowns;
  REQUIRE(unknowns.size() == 1);
  CHECK(unknowns.front().doubt == HoldDoubt::ended_before_bound);
  CHECK(unknowns.front().at_least > std::chrono::seconds(1));
  CHECK_THAT(r.saw, Contains("still in CLOSE_WAIT at the end, held 1.20 s so far: the run ended before 5.00 s"));
}

TEST_CASE("socket-held names every state asked for and an IPv6 socket in brackets") {
  Trace t = leaky_traced();
  for (TraceEvent& e : t.events)
    if (auto* w = std::get_if<WireEvent>(&e)) {
      const bool c = w->info.from == client;
      w->segment.src = *IpAddress::parse(c ? "fd00:1::2" : "fd00:2::2");
      w->segment.dst = *IpAddress::parse(c ? "fd00:2::2" : "fd00:1::2");
    }
  SocketHeldExpect x = held(std::nullopt);
  x.states = {S::CLOSE_WAIT, S::FIN_WAIT2};
  const CheckResult r = check_expectation(t, x);
  CHECK(r.name == "no client or server socket held in CLOSE_WAIT or FIN_WAIT_2 at the end");
  CHECK_THAT(r.saw, Contains("server socket [fd00:2::2]:8080 ← [fd00:1::2]:40000 (connection 1) held CLOSE_WAIT"));
  CHECK_THAT(r.saw, Contains("client socket [fd00:1::2]:40000 → [fd00:2::2]:8080 (connection 1) held FIN_WAIT_2"));
}

TEST_CASE("socket-held judges the run's end, not the teardown that closed the app's sockets after it") {
  Trace t = leaky_traced();
  t.run_end = ms(1000.05);  // lastack then stopped the server, which closed its socket
  TraceBuilder b;
  b.trace = t;
  b.state(1001.0, server, S::CLOSE_WAIT, S::LAST_ACK);
  b.state(1001.2, server, S::LAST_ACK, S::CLOSE);
  const CheckResult r = check_expectation(b.trace, held(server));
  CHECK(r.outcome == Outcome::fail);
  REQUIRE(seen<HoldsSeen>(r).held.size() == 1);
  const HoldSeen& h = seen<HoldsSeen>(r).held.front();
  CHECK(h.at_end);  // still in CLOSE_WAIT when the run ended, whatever the teardown did after
  CHECK(h.at_least < std::chrono::seconds(1));
}

TEST_CASE("the run's end is in the JSON header when known, and reads back") {
  Trace t;  // a header alone: the builder's segments carry no bytes to re-parse
  t.policy = "t";
  t.run_end = ms(1000.05);
  std::stringstream file;
  write_jsonl(t, {}, file);
  CHECK_THAT(file.str(), Contains("\"run_end_ns\":1000050000"));
  CHECK(read_trace_jsonl(file, "t.jsonl").run_end == ms(1000.05));
  std::stringstream without;
  t.run_end.reset();
  write_jsonl(t, {}, without);
  CHECK_THAT(without.str(), !Contains("run_end_ns"));
}

TEST_CASE("socket-held longer-than = \"rtt\" allows one round trip as the run measured it, and prints it") {
  CHECK(parse_held("check = \"socket-held\"\nstate = \"LAST_ACK\"\nlonger-than = \"rtt\"\n").longer_than_rtt);
  SocketHeldExpect x = held(server);
  x.states = {S::LAST_ACK};
  x.longer_than_rtt = true;
  // The server's LAST_ACK held 100 ms: the handshake's sub-millisecond round trip does not allow it...
  Trace t = fixed_traced();
  for (TraceEvent& e : t.events)
    if (auto* c = std::get_if<StateChange>(&e); c && c->side == server && c->from == S::LAST_ACK) c->at = ms(152.45);
  for (TraceEvent& e : t.events)
    if (auto* w = std::get_if<WireEvent>(&e); w && w->info.roles.has(final_ack)) w->at = ms(152.4);
  t.observed_until = ms(1202.05);
  sort_by_time(t);
  const CheckResult slow = check_expectation(t, x);
  CHECK(slow.outcome == Outcome::fail);
  CHECK_THAT(slow.expected, Contains("longer than") && Contains("(one round trip: ") && Contains("RTT +"));
  CHECK_THAT(slow.saw, Contains("held LAST_ACK for 100 ms (one round trip: 0.1 ms measured"));
  // ...the kernel's own 100 ms (tcpi_rtt, as over a 50 ms [link]) does.
  TraceBuilder b;
  b.trace = t;
  b.socket(10, server, S::ESTABLISHED).rtt = std::chrono::milliseconds(100);
  sort_by_time(b.trace);
  const CheckResult far = check_expectation(b.trace, x);
  CHECK(far.passed());
  CHECK_THAT(far.expected, Contains("(one round trip: 100 ms measured"));
}
