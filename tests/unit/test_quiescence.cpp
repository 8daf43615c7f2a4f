// When a run may end early: only once no socket can change what the checks see, and never
// before the event a check needs (a run ended then would give a different, wrong verdict).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "lastack/policy_parser.hpp"
#include "harness/core/decide/quiescence.hpp"
#include "harness/core/record/trace_reader.hpp"
#include "harness/core/oracle/verdicts.hpp"

using namespace lastack;
using std::chrono::milliseconds;

namespace {

SocketNow sock(Side side, TcpState state, milliseconds expires = milliseconds(0)) {
  return SocketNow{side, 40000, 8080, state, expires};
}

Trace fixture(const std::string& name) {
  std::ifstream in(std::string(LASTACK_FIXTURES) + "/traces/" + name + ".jsonl", std::ios::binary);
  REQUIRE(in);
  return read_trace_jsonl(in, name);
}

Policy shipped(const std::string& name) {
  const auto path = std::filesystem::path(LASTACK_POLICY_DIR) / (name + ".toml");
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  return parse_policy(text, path.string());
}

/// The trace a run ended at `t` would have recorded.
Trace ended_at(Trace trace, Instant t) {
  std::erase_if(trace.events, [&](const TraceEvent& e) { return event_time(e) > t; });
  for (auto* samples : {&trace.samples.client, &trace.samples.server})
    std::erase_if(*samples, [&](const SocketSample& s) { return s.end > t; });
  trace.final_sample_lists_all = false;  // its last sample now is not the run's listing of every socket
  trace.observed_until = t;
  trace.run_end = t;
  return trace;
}

std::vector<Outcome> outcomes(const std::vector<CheckResult>& results) {
  std::vector<Outcome> out;
  for (const auto& r : results) out.push_back(r.outcome);
  return out;
}

}  // namespace

TEST_CASE("only TIME_WAIT that outlives the settle time, and listeners, are settled") {
  const milliseconds left(500);
  CHECK(why_unsettled({}, left).empty());
  CHECK(why_unsettled({sock(Side::client, TcpState::TIME_WAIT, milliseconds(59000))}, left).empty());
  CHECK(why_unsettled({sock(Side::server, TcpState::LISTEN)}, left).empty());
  for (TcpState busy : {TcpState::ESTABLISHED, TcpState::SYN_SENT, TcpState::SYN_RECV, TcpState::NEW_SYN_RECV,
                        TcpState::FIN_WAIT1, TcpState::FIN_WAIT2, TcpState::CLOSE_WAIT, TcpState::LAST_ACK,
                        TcpState::CLOSING}) {
    INFO(state_name(busy));
    CHECK_FALSE(why_unsettled({sock(Side::client, TcpState::TIME_WAIT, milliseconds(59000)), sock(Side::server, busy)},
                              left)
                    .empty());
  }
}

TEST_CASE("a TIME_WAIT ending within the settle time keeps the run going: its end is a state change") {
  CHECK(why_unsettled({sock(Side::client, TcpState::TIME_WAIT, milliseconds(300))}, milliseconds(500)) ==
        "client socket 40000->8080 leaves TIME_WAIT in 300 ms, within the settle time (500 ms left)");
  CHECK(why_unsettled({sock(Side::client, TcpState::TIME_WAIT, milliseconds(300))}, milliseconds(200)).empty());
}

TEST_CASE("the sockets of a trace at an instant: last samples, timers counted down, gone ones left out") {
  Trace t;
  SocketEvent a;
  a.at = Instant(milliseconds(10));
  a.side = Side::client;
  a.local_port = 1;
  a.state = TcpState::TIME_WAIT;
  a.expires = milliseconds(60000);
  SocketEvent b = a;
  b.side = Side::server;
  b.state = TcpState::LAST_ACK;
  SocketEvent gone = b;
  gone.at = Instant(milliseconds(20));
  gone.state = TcpState::CLOSE;
  t.events = {a, b, gone};
  const auto at15 = sockets_at(t, Instant(milliseconds(15)));
  REQUIRE(at15.size() == 2);
  CHECK(at15[0].expires == milliseconds(59995));
  const auto at25 = sockets_at(t, Instant(milliseconds(25)));
  REQUIRE(at25.size() == 1);
  CHECK(at25[0].state == TcpState::TIME_WAIT);
}

TEST_CASE("drop-final-ack: unsettled until the retransmitted FIN is answered, ending once settled keeps every verdict") {
  const Trace trace = fixture("drop-final-ack");
  const Policy policy = shipped("drop-final-ack");
  const auto whole = outcomes(judge_trace(trace, policy));
  const Instant end = *trace.observed_until;
  // The first instant a sample shows the sockets settled (checked at every socket sample).
  std::optional<Instant> settled;
  for (const TraceEvent& e : trace.events) {
    const auto* s = std::get_if<SocketEvent>(&e);
    if (!s) continue;
    const auto left = std::chrono::duration_cast<milliseconds>(end - s->at);
    if (why_unsettled(sockets_at(trace, s->at), left).empty()) {
      settled = s->at;
      break;
    }
  }
  REQUIRE(settled);
  // Not before the server's FIN was retransmitted and answered: its socket was still in LAST_ACK.
  std::optional<Instant> last_wire;
  for (const TraceEvent& e : trace.events)
    if (const auto* w = std::get_if<WireEvent>(&e)) last_wire = w->at;
  REQUIRE(last_wire);
  CHECK(*settled >= *last_wire);
  CHECK(*settled < end);
  // Ended there (after the quiet grace a run waits), every check gives the verdict it gives on
  // the whole trace.
  CHECK(outcomes(judge_trace(ended_at(trace, *settled + settled_grace), policy)) == whole);
  // Ended just before the retransmission instead, the checks that need it fail: the settled rule
  // is what keeps an early end from hiding it.
  std::optional<Instant> retransmitted;
  for (const TraceEvent& e : trace.events)
    if (const auto* w = std::get_if<WireEvent>(&e); w && w->info.roles.has(Role::retransmission)) {
      retransmitted = w->at;
      break;
    }
  REQUIRE(retransmitted);
  CHECK_FALSE(why_unsettled(sockets_at(trace, *retransmitted - milliseconds(1)), milliseconds(1)).empty());
  CHECK(outcomes(judge_trace(ended_at(trace, *retransmitted - milliseconds(1)), policy)) != whole);
}
