// Recorded real runs, replayed through parse -> tracker -> oracle: each fixture gets the verdicts
// it was given when it ran; then each is changed in one way a broken kernel (or a broken
// observer) would change it, and the check that guards against that must fail.
// Re-record the fixtures with scripts/record-fixtures.
#include <catch2/catch.hpp>

#include "harness/core/oracle/verdicts.hpp"
#include "tests/unit/trace_mutations.hpp"

using namespace lastack;
using namespace lastack::testing;
using Catch::Matchers::Contains;

namespace {

constexpr Side client = Side::client, server = Side::server;

const char* const fixtures[] = {"baseline",          "drop-final-ack",  "drop-syn",  "drop-first-fin",
                                "simultaneous-close", "rst-in-timewait", "abort-rst", "syn-timeout",
                                "four-segment-close", "delay-synack"};

// The oracle's verdicts on `trace` under the shipped policy it names.
std::vector<CheckResult> judge(const Trace& trace) { return judge_trace(trace, shipped_policy(trace.policy)); }

// The verdict of check `name` on `trace`, with what it saw in the test's log.
CheckResult verdict(const Trace& trace, std::string_view name) {
  const CheckResult r = result_named(judge(trace), name);
  UNSCOPED_INFO(r.name << ": " << r.saw);
  return r;
}

}  // namespace

TEST_CASE("every recorded fixture replays to the verdicts recorded with it") {
  for (const char* name : fixtures) {
    INFO(name);
    const RecordedRun run = read_fixture(name);
    REQUIRE(run.trace.policy == name);
    REQUIRE_FALSE(run.checks.empty());
    const auto replayed = judge(run.trace);
    const auto differences = verdict_differences(run.checks, replayed);
    for (const auto& d : differences) UNSCOPED_INFO(d);
    CHECK(differences.empty());
    // The fixtures are runs that passed: the mutations below start from a passing trace.
    CHECK(std::all_of(replayed.begin(), replayed.end(), [](const CheckResult& r) { return r.outcome != Outcome::fail; }));
  }
}

// ---- retransmissions ----

TEST_CASE("a dropped FIN never retransmitted fails dropped-is-retransmitted and retransmitted") {
  Trace t = read_fixture("drop-first-fin").trace;
  remove_retransmission(t, client, Role::first_fin);
  const auto invariant = verdict(t, "dropped-is-retransmitted");
  CHECK_FALSE(passed(invariant));
  CHECK_THAT(invariant.saw, Contains("F. seq 1001 from client dropped at") && Contains("was never resent"));
  const auto expectation = verdict(t, "retransmitted first-fin from first-closer (client)");
  CHECK_FALSE(passed(expectation));
  CHECK_THAT(expectation.saw, Contains("never retransmitted"));
}

TEST_CASE("drop-final-ack without the server's FIN retransmission fails its retransmitted expectation") {
  Trace t = read_fixture("drop-final-ack").trace;
  remove_retransmission(t, server, Role::second_fin);
  const auto r = verdict(t, "retransmitted second-fin from second-closer (server)");
  CHECK_FALSE(passed(r));
  CHECK_THAT(r.saw, Contains("F. seq 1 from server sent at") && Contains("never retransmitted"));
}

// The dropped segment is the client's final ACK (no sequence space): the FIN it answered must
// come again, or the dropped ACK was never repaired.
TEST_CASE("drop-final-ack without the server's FIN retransmission fails dropped-is-retransmitted",
          "[!mayfail]") {
  Trace t = read_fixture("drop-final-ack").trace;
  remove_retransmission(t, server, Role::second_fin);
  const auto r = verdict(t, "dropped-is-retransmitted");
  CHECK_FALSE(passed(r));
  CHECK_THAT(r.saw, Contains("never"));
}

TEST_CASE("equal gaps between SYN retransmissions fail the policy's backoff expectation") {
  Trace t = read_fixture("syn-timeout").trace;
  equalize_backoff_gaps(t, client, Role::syn);
  const auto r = verdict(t, "retransmitted syn from client");
  CHECK_FALSE(passed(r));
  CHECK_THAT(r.saw, Contains("retransmitted twice, same seq 0 (S)"));
}

TEST_CASE("equal gaps between SYN retransmissions fail retransmission-backoff", "[!mayfail]") {
  Trace t = read_fixture("syn-timeout").trace;
  equalize_backoff_gaps(t, client, Role::syn);
  const auto r = verdict(t, "retransmission-backoff");
  CHECK_FALSE(passed(r));
  CHECK_THAT(r.saw, Contains("S seq 0 from client"));
}

// ---- sequence space ----

TEST_CASE("an ACK of a FIN one past seq + len + 1 fails syn-fin-consume-seq") {
  Trace t = read_fixture("baseline").trace;
  reacknowledge(t, wire_index(t, client, Role::first_fin), +1);
  const auto r = verdict(t, "syn-fin-consume-seq");
  CHECK_FALSE(passed(r));
  CHECK_THAT(r.saw, Contains("FIN from client seq 1001 acknowledged with ack 1003, not 1002"));
}

TEST_CASE("an ACK of a FIN at seq + len (the FIN's octet not counted) fails syn-fin-consume-seq",
          "[!mayfail]") {
  Trace t = read_fixture("baseline").trace;
  reacknowledge(t, wire_index(t, client, Role::first_fin), -1);
  const auto r = verdict(t, "syn-fin-consume-seq");
  CHECK_FALSE(passed(r));
  CHECK_THAT(r.saw, Contains("FIN from client seq 1001"));
}

// ---- states ----

TEST_CASE("a socket traced ESTABLISHED then SYN_SENT fails legal-states") {
  Trace t = read_fixture("baseline").trace;
  const SocketEvent first = first_socket(t, client);
  insert_state_change(t, client, first.local_port, first.remote_port, first.at + std::chrono::microseconds(10),
                      TcpState::ESTABLISHED, TcpState::SYN_SENT);
  const auto r = verdict(t, "legal-states");
  CHECK_FALSE(passed(r));
  CHECK_THAT(r.saw, Contains("ESTABLISHED → SYN_SENT is not a"));
}

TEST_CASE("a listener sampled LISTEN then TIME_WAIT fails legal-states", "[!mayfail]") {
  Trace t = read_fixture("baseline").trace;
  const SocketEvent first = first_socket(t, server);
  insert_socket_states(t, server, first.local_port, 0, first.at, {TcpState::LISTEN, TcpState::TIME_WAIT});
  const auto r = verdict(t, "legal-states");
  CHECK_FALSE(passed(r));
  CHECK_THAT(r.saw, Contains("LISTEN → TIME_WAIT"));
}

TEST_CASE("a client whose TIME_WAIT the kernel skipped fails its state and timewait checks") {
  // tcp_max_tw_buckets full: no timewait socket ever sampled, and TCPTimeWaitOverflow counted one.
  Trace t = read_fixture("baseline").trace;
  skip_timewait(t, client);
  const auto state = verdict(t, "state first-closer (client) reaches FIN_WAIT_2, ends in TIME_WAIT");
  CHECK_FALSE(passed(state));
  CHECK_THAT(state.saw, Contains("(ended in CLOSED)"));
  const auto timewait = verdict(t, "timewait entered by first-closer (client), timer 55.0 s..60.0 s");
  CHECK_FALSE(passed(timewait));
  CHECK_THAT(timewait.saw, Contains("nobody entered TIME_WAIT") && Contains("TcpExt.TCPTimeWaitOverflow counted it"));
  // Skipping TIME_WAIT when the table is full is the kernel's documented behaviour: no violation.
  const auto invariant = verdict(t, "timewait-only-active-closers");
  CHECK(passed(invariant));
  CHECK_THAT(invariant.saw, Contains("skipped TIME_WAIT (TcpExt.TCPTimeWaitOverflow counted it)"));
}

TEST_CASE("a skipped TIME_WAIT the overflow counter does not account for is not checked") {
  // Two overflows counted, one hand-over unseen: which socket skipped is decided; with the counter
  // at 0 the kernel's close is a TIME_WAIT; unread, nothing is decided.
  Trace t = read_fixture("baseline").trace;
  skip_timewait(t, client);
  t.counters.client.reset();
  t.timewait_overflow.client.reset();
  const auto timewait = verdict(t, "timewait entered by first-closer (client), timer 55.0 s..60.0 s");
  CHECK(timewait.outcome == Outcome::not_checked);
  CHECK_THAT(timewait.saw, Contains("overflow counter was not read"));
}

TEST_CASE("a TIME_WAIT timer out of the policy's range fails the timewait expectation") {
  Trace t = read_fixture("baseline").trace;
  set_timewait_left(t, client, std::chrono::seconds(30));
  const auto r = verdict(t, "timewait entered by first-closer (client), timer 55.0 s..60.0 s");
  CHECK_FALSE(passed(r));
  CHECK_THAT(r.saw, Contains("client entered TIME_WAIT with 30.0 s left") && Contains("client's timer out of range"));
}

// ---- resets ----

// A RST counts for `reset` expectations by the side it seems to come from, injected or not
// (README: "injected, but on the wire it is the server's"); only the invariants tell them apart.
TEST_CASE("an injected RST counted as the server kernel's: same reset verdicts, the server now aborted") {
  Trace t = read_fixture("rst-in-timewait").trace;
  mark_reset_injected(t, server, false);
  CHECK(passed(verdict(t, "reset from second-closer (server)")));
  CHECK(passed(verdict(t, "no RST from first-closer (client)")));
  // Who entered TIME_WAIT is the kernel's word, which the wire's labels do not change.
  const auto r = verdict(t, "timewait-only-active-closers");
  CHECK(passed(r));
  CHECK_THAT(r.saw, Contains("client closed first, entered TIME_WAIT; server closed second, no TIME_WAIT"));
}

TEST_CASE("a kernel RST marked injected no longer counts as the client's reset") {
  Trace t = read_fixture("abort-rst").trace;
  CHECK_THAT(verdict(t, "timewait-only-active-closers").saw, Contains("client sent no FIN, no TIME_WAIT, closed with a RST of its own"));
  mark_reset_injected(t, client, true);
  const auto reset = verdict(t, "reset from client");
  CHECK_FALSE(passed(reset));  // `reset` counts the kernels' RSTs unless it says injected = true
  CHECK_THAT(reset.saw, Contains("1 RST injected by lastack, not counted"));
  const auto r = verdict(t, "timewait-only-active-closers");
  CHECK(passed(r));
  // The kernel's own account of the client's close still says it sent the RST.
  CHECK_THAT(r.saw, Contains("client sent no FIN, no TIME_WAIT, closed with a RST of its own"));
}

TEST_CASE("an abort whose RST never reached the wire fails the reset expectation") {
  Trace t = read_fixture("abort-rst").trace;
  remove_segment(t, wire_index(t, client, Role::rst));
  const auto r = verdict(t, "reset from client");
  CHECK_FALSE(passed(r));
  CHECK(r.saw == "no RST from client's kernel on the wire");
}

TEST_CASE("a RST from the server after a clean close fails the policy's no-RST expectation") {
  Trace t = read_fixture("baseline").trace;
  add_reset_answering(t, wire_index(t, client, Role::final_ack), std::chrono::milliseconds(1));
  const auto r = verdict(t, "no RST from either side");
  CHECK_FALSE(passed(r));
  CHECK_THAT(r.saw, Contains("1 RST: R seq 2 from server at"));
}

// ---- apps ----

TEST_CASE("a byte lost between the apps fails bytes-delivered and the app expectation") {
  Trace t = read_fixture("baseline").trace;
  set_app_bytes(t, server, "recv", 999);
  const auto invariant = verdict(t, "bytes-delivered");
  CHECK_FALSE(passed(invariant));
  CHECK(invariant.saw == "client wrote 1000 bytes, server read 999; server wrote 0, client read 0");
  const auto app = verdict(t, "app server sees eof, received 1000 bytes");
  CHECK_FALSE(passed(app));
  CHECK_THAT(app.saw, Contains("(read 999 bytes, not 1000)"));
}

TEST_CASE("a connect that did not time out fails the app expectation of ETIMEDOUT") {
  Trace t = read_fixture("syn-timeout").trace;
  set_app_outcome(t, client, "ETIMEDOUT", "ok");
  const auto r = verdict(t, "app client sees ETIMEDOUT");
  CHECK_FALSE(passed(r));
  CHECK_THAT(r.saw, Contains("connect: ok") && Contains("(no ETIMEDOUT)"));
}

// ---- segments, close, connections ----

TEST_CASE("a close without the separate ACK of the first FIN fails close and segments") {
  Trace t = read_fixture("four-segment-close").trace;
  remove_segment(t, wire_index(t, server, Role::first_fin_ack));
  const auto close = verdict(t, "close in 4 segments");
  CHECK_FALSE(passed(close));
  CHECK_THAT(close.saw, Contains("3 segments: F. (client), F. (server, acks the first FIN), . (client)"));
  const auto segments = verdict(t, "segments second-fin with first-fin-ack");
  CHECK_FALSE(passed(segments));
  CHECK_THAT(segments.saw, Contains("1 segment: F. seq 1 from server at"));
}

TEST_CASE("segments moved to another client port fail the connections expectation") {
  Trace t = read_fixture("delay-synack").trace;
  move_to_client_port(t, wire_index(t, client, Role::first_fin), 40001);
  const auto r = verdict(t, "connections");
  CHECK_FALSE(passed(r));
  CHECK_THAT(r.saw, Contains("2 connections:") && Contains("client port 40001"));
}
