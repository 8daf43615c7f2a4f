// Expectations over many connections: each judged on every connection (one verdict each) or on
// the one it names; run-wide kinds once; single-connection traces exactly as before.
#include <algorithm>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "harness/core/trace/connection_scope.hpp"
#include "lastack/oracle.hpp"
#include "harness/core/oracle/per_connection.hpp"
#include "lastack/report.hpp"
#include "harness/core/report/svg_ladder.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "tests/unit/findings.hpp"
#include "tests/unit/trace_builder.hpp"
#include "harness/core/oracle/checks.hpp"

using namespace lastack;
using namespace lastack::testing;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

constexpr Side client = Side::client, server = Side::server;

// `one` moved to connection `connection` (0-based), client port 40000 + connection, `shift_ms` later.
void append_connection(Trace& out, const Trace& one, std::size_t connection, double shift_ms) {
  const auto port = static_cast<std::uint16_t>(40000 + connection);
  for (TraceEvent ev : one.events) {
    std::visit(
        [&](auto& e) {
          e.at += std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(shift_ms));
          if constexpr (std::is_same_v<std::decay_t<decltype(e)>, WireEvent>) {
            e.info.connection = ConnectionIndex{connection};
            (e.info.from == client ? e.segment.sport : e.segment.dport) = port;
          } else if constexpr (requires { e.local_port, e.remote_port, e.side; }) {
            (e.side == client ? e.local_port : e.remote_port) = port;
          }
        },
        ev);
    out.events.push_back(std::move(ev));
  }
}

// drop-final-ack three times over: connections 1, 2 and 3, one after another (1 s apart).
Trace three_connections(const Trace& one) {
  Trace t = one;
  t.events.clear();
  for (std::size_t c = 0; c < 3; ++c) append_connection(t, one, c, 1000.0 * static_cast<double>(c));
  std::stable_sort(t.events.begin(), t.events.end(),
                   [](const TraceEvent& a, const TraceEvent& b) { return event_time(a) < event_time(b); });
  return t;
}

// The drop-final-ack trace without the drop: the server's FIN is never resent.
Trace clean_close() {
  Trace t = drop_final_ack_trace();
  std::erase_if(t.events, [](const TraceEvent& ev) {
    const auto* w = std::get_if<WireEvent>(&ev);
    return w && (w->fate == Fate::dropped || w->info.roles.has(Role::retransmission));
  });
  return t;
}

StateExpect server_reaches_last_ack() {
  StateExpect x;
  x.side = server;
  x.reaches = TcpState::LAST_ACK;
  x.line = 12;
  return x;
}

RetransmittedExpect second_fin_retransmitted() {
  RetransmittedExpect x;
  x.segment.segment = Role::second_fin;
  x.segment.from = server;
  x.count = 1;
  x.line = 20;
  return x;
}

std::vector<std::string> names(const std::vector<CheckResult>& results) {
  std::vector<std::string> out;
  for (const auto& r : results) out.push_back(r.name);
  return out;
}

}  // namespace

TEST_CASE("a single-connection trace gets one result per expectation, named as before") {
  const Trace t = with_kernel_retransmits(drop_final_ack_trace());
  const auto results = check_expectations(t, {server_reaches_last_ack(), second_fin_retransmitted()});
  REQUIRE(results.size() == 2);
  CHECK(results[0].name == check_expectation(t, server_reaches_last_ack()).name);
  CHECK(results[0].saw == check_expectation(t, server_reaches_last_ack()).saw);
  CHECK(results[1].name == "retransmitted second-fin from server");
  CHECK(results[1].passed());
}

TEST_CASE("connection_trace keeps one connection's segments and sockets, and the lab's notes") {
  const Trace t = three_connections(drop_final_ack_trace());
  REQUIRE(connections_on_wire(t) == std::vector<ConnectionIndex>{{0}, {1}, {2}});
  const Trace second = connection_trace(t, ConnectionIndex{1});
  std::size_t wires = 0, sockets = 0, apps = 0, labs = 0;
  for (const TraceEvent& ev : second.events) {
    if (const auto* w = std::get_if<WireEvent>(&ev)) {
      CHECK(w->info.connection == ConnectionIndex{1});
      ++wires;
    } else if (const auto* s = std::get_if<SocketEvent>(&ev)) {
      CHECK((s->side == client ? s->local_port : s->remote_port) == 40001);
      ++sockets;
    }
    apps += std::holds_alternative<AppEvent>(ev);
    labs += std::holds_alternative<LabEvent>(ev);
  }
  CHECK(wires == 11);
  CHECK(sockets > 0);
  // Lab notes belong to no connection: every slice keeps them all. App steps are run-wide (no
  // check judged per connection reads them): no slice keeps them.
  REQUIRE(std::any_of(t.events.begin(), t.events.end(),
                      [](const TraceEvent& ev) { return std::holds_alternative<AppEvent>(ev); }));
  CHECK(apps == 0);
  CHECK(labs == 3);
}

TEST_CASE("an expectation without connection is judged on each connection, one verdict each") {
  const Trace sampled = three_connections(drop_final_ack_trace());
  auto results = check_expectations(sampled, {server_reaches_last_ack()});
  // Retransmissions are the kernel's word: the same connections, traced.
  for (auto& r : check_expectations(with_kernel_retransmits(sampled), {second_fin_retransmitted()}))
    results.push_back(std::move(r));
  CHECK(names(results) == std::vector<std::string>{
                              "state server reaches LAST_ACK on connection 1",
                              "state server reaches LAST_ACK on connection 2",
                              "state server reaches LAST_ACK on connection 3",
                              "retransmitted second-fin from server on connection 1",
                              "retransmitted second-fin from server on connection 2",
                              "retransmitted second-fin from server on connection 3",
                          });
  for (const auto& r : results) {
    INFO(r.name << ": " << r.saw);
    CHECK(r.passed());
    CHECK(r.line == (r.name.starts_with("state") ? 12u : 20u));
  }
}

TEST_CASE("the verdict names the connection that failed") {
  // Connections 1 and 3 lose their final ACK; connection 2 closes cleanly.
  const Trace lossy = drop_final_ack_trace();
  Trace t = lossy;
  t.events.clear();
  append_connection(t, lossy, 0, 0);
  append_connection(t, clean_close(), 1, 1000);
  append_connection(t, lossy, 2, 2000);
  std::stable_sort(t.events.begin(), t.events.end(),
                   [](const TraceEvent& a, const TraceEvent& b) { return event_time(a) < event_time(b); });
  const auto results = check_expectations(with_kernel_retransmits(t), {second_fin_retransmitted()});
  REQUIRE(results.size() == 3);
  CHECK(results[0].passed());
  CHECK_FALSE(results[1].passed());
  CHECK(results[1].finding.check.on_connection == ConnectionNumber{2});
  CHECK(seen<RetransmissionsSeen>(results[1]).again.empty());
  CHECK(results[1].name == "retransmitted second-fin from server on connection 2");
  CHECK(results[2].passed());
}

TEST_CASE("connection = N judges that connection only, and fails when the wire never showed it") {
  const Trace t = three_connections(drop_final_ack_trace());
  StateExpect x = server_reaches_last_ack();
  x.connection = ConnectionNumber{2};
  auto results = check_expectations(t, {x});
  REQUIRE(results.size() == 1);
  CHECK(results[0].passed());
  CHECK(results[0].finding.check.on_connection == ConnectionNumber{2});
  CHECK(results[0].name == "state server reaches LAST_ACK on connection 2");
  x.connection = ConnectionNumber{4};
  results = check_expectations(t, {x});
  REQUIRE(results.size() == 1);
  CHECK(results[0].outcome == Outcome::fail);
  CHECK(seen<ConnectionMissing>(results[0]) == ConnectionMissing{4, 3});
  CHECK(results[0].saw == "no connection 4 on the wire (3 seen)");
  // A selector's connection is the check's own business, on the whole trace.
  RetransmittedExpect r = second_fin_retransmitted();
  r.segment.connection = ConnectionNumber{3};
  results = check_expectations(with_kernel_retransmits(t), {r});
  REQUIRE(results.size() == 1);
  CHECK(results[0].finding.check.subject.connection == ConnectionNumber{3});
  CHECK_FALSE(results[0].finding.check.on_connection);  // judged on the whole trace
  CHECK(results[0].name == "retransmitted second-fin from server on connection 3");
  CHECK(results[0].passed());
}

TEST_CASE("connections and app are judged once over the whole run") {
  const Trace t = three_connections(drop_final_ack_trace());
  ConnectionsExpect n;
  n.count = 3;
  AppExpect app;
  app.side = client;
  app.sees = "ok";
  const auto results = check_expectations(t, {n, app});
  REQUIRE(results.size() == 2);
  CHECK(results[0].finding.check.kind == CheckKind::connections);
  CHECK(results[0].passed());
  CHECK(results[1].finding.check.kind == CheckKind::app);
  CHECK_FALSE(results[1].finding.check.on_connection);
}

TEST_CASE("reset and timewait are judged per connection, close too") {
  const Trace t = three_connections(drop_final_ack_trace());
  ResetExpect none;
  none.count = 0;
  TimeWaitExpect tw;
  tw.entered_by = std::vector<SideRef>{client};
  CloseExpect close;
  close.segments = 4;
  const auto results = check_expectations(t, {none, tw, close});
  REQUIRE(results.size() == 9);
  for (const auto& r : results) {
    INFO(r.name << ": " << r.saw);
    CHECK(r.passed());
    CHECK(r.finding.check.on_connection);
  }
  CHECK_FALSE(seen<ClosesSeen>(results[6]).numbered);  // one connection's close, plain
}

TEST_CASE("run_oracle gives one line per connection for each connection-scoped expectation") {
  Policy p;
  p.expect = {server_reaches_last_ack(), ConnectionsExpect{3, 30}};
  const auto results = run_oracle(three_connections(drop_final_ack_trace()), p);
  const auto policy_lines = std::count_if(results.begin(), results.end(), [](const CheckResult& r) { return !r.builtin; });
  CHECK(policy_lines == 4);
  for (const auto& r : results) {
    INFO(r.name << ": " << r.saw);
    CHECK(r.outcome != Outcome::fail);
  }
}

TEST_CASE("the ladder groups each connection's segments and states under its header") {
  const std::string ladder = render_ladder(three_connections(drop_final_ack_trace()), {false, 100});
  const auto first = ladder.find("── connection 1: 198.18.1.2:40000 → 198.18.2.2:8080\n");
  const auto second = ladder.find("── connection 2: 198.18.1.2:40001 → 198.18.2.2:8080\n");
  const auto third = ladder.find("── connection 3: 198.18.1.2:40002 → 198.18.2.2:8080\n");
  const auto run = ladder.find("── the run (no one connection)\n");
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  REQUIRE(third != std::string::npos);
  REQUIRE(run != std::string::npos);
  CHECK((first < second && second < third && third < run));
  const std::string second_group = ladder.substr(second, third - second);
  CHECK_THAT(second_group, Contains("#2 F. seq 1 ack 1002 [second-fin]"));
  CHECK_THAT(second_group, Contains("LAST_ACK"));
  CHECK_THAT(second_group, !Contains("#1 ") && !Contains("#3 "));
  CHECK_THAT(ladder.substr(run), Contains("client: connect → ok"));
  CHECK_THAT(ladder.substr(run), !Contains("── #"));
}

TEST_CASE("the SVG ladder labels each segment with its connection when there are several") {
  CHECK_THAT(render_svg_ladder(three_connections(drop_final_ack_trace()), {}), Contains("text-anchor=\"middle\">#2 F. seq 1 "));
  CHECK_THAT(render_svg_ladder(drop_final_ack_trace(), {}), !Contains("text-anchor=\"middle\">#1 "));
}

namespace {

// drop-final-ack `n` times over, one connection after another (1 s apart).
Trace many_connections(const Trace& one, std::size_t n) {
  Trace t = one;
  t.events.clear();
  for (std::size_t c = 0; c < n; ++c) append_connection(t, one, c, 1000.0 * static_cast<double>(c));
  std::stable_sort(t.events.begin(), t.events.end(),
                   [](const TraceEvent& a, const TraceEvent& b) { return event_time(a) < event_time(b); });
  return t;
}

}  // namespace

TEST_CASE("past fold_above connections, each check is one row judging every connection") {
  const Trace t = with_kernel_retransmits(many_connections(drop_final_ack_trace(), fold_above + 4));
  const auto results = check_expectations(t, {server_reaches_last_ack(), second_fin_retransmitted()});
  REQUIRE(results.size() == 2);
  CHECK(results[1].passed());
  REQUIRE(results[1].finding.folded);
  const Folded& folded = *results[1].finding.folded;
  CHECK(folded.connections == fold_above + 4);
  CHECK(folded.tally == std::vector<std::pair<Outcome, std::size_t>>{{Outcome::pass, fold_above + 4}});
  CHECK(folded.shown == ConnectionNumber{1});
  CHECK(seen<RetransmissionsSeen>(results[1]).again.size() == 1);
  CHECK(results[1].name == fmt::format("retransmitted second-fin from server on each of {} connections", fold_above + 4));
  CHECK_THAT(results[1].saw, Contains(fmt::format("{} of {} connections pass; connection 1: retransmitted once",
                                                  fold_above + 4, fold_above + 4)));
}

TEST_CASE("a folded check fails when one connection fails, and names it") {
  Trace t = many_connections(drop_final_ack_trace(), fold_above + 4);
  // Connection 7's FIN is never resent: remove its retransmission (and the drop before it).
  std::erase_if(t.events, [](const TraceEvent& ev) {
    const auto* w = std::get_if<WireEvent>(&ev);
    return w && w->info.connection == ConnectionIndex{6} && (w->fate == Fate::dropped || w->info.roles.has(Role::retransmission));
  });
  const auto results = check_expectations(with_kernel_retransmits(t), {second_fin_retransmitted()});
  REQUIRE(results.size() == 1);
  CHECK(results[0].outcome == Outcome::fail);
  REQUIRE(results[0].finding.folded);
  CHECK(results[0].finding.folded->shown == ConnectionNumber{7});
  CHECK(results[0].finding.folded->tally ==
        std::vector<std::pair<Outcome, std::size_t>>{{Outcome::pass, fold_above + 3}, {Outcome::fail, 1}});
  CHECK_THAT(results[0].saw, Contains(fmt::format("1 of {} connections fail ({} pass, 1 fail); connection 7: ",
                                                  fold_above + 4, fold_above + 3)));
  CHECK_THAT(results[0].expected, StartsWith("on every connection: "));
}

TEST_CASE("the connections each fault acted on are named, 1-based") {
  TraceBuilder b;
  CHECK(fault_connections_text(b.trace).empty());
  for (std::size_t c : {0, 1, 2}) {
    WireEvent& w = b.wire(10.0 * c, Side::client, ".", 2, 2, 0, {Role::ack, Role::final_ack}, Fate::dropped);
    w.info.connection = ConnectionIndex{c};
    w.fault = c == 2 ? 1 : 0;
  }
  CHECK(fault_connections_text(b.trace) == "fault 1 hit connections 1, 2; fault 2 hit connection 3");
}
