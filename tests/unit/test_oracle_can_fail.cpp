// Every built-in invariant and every expectation kind can fail: for each, a trace where it
// passes, a mutated trace where it fails (outcome and key words asserted), and where it applies
// a trace where it cannot look (sampled states, an empty trace) and says "not checked".
#include <cerrno>

#include <catch2/catch.hpp>

#include "harness/core/oracle/expect/expectations.hpp"
#include "harness/core/oracle/invariants.hpp"
#include "harness/core/report/junit.hpp"
#include "lastack/oracle.hpp"
#include "lastack/report.hpp"
#include "harness/core/trace/state_history.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "tests/unit/findings.hpp"
#include "tests/unit/trace_builder.hpp"
#include "lastack/trace_jsonl.hpp"
#include "harness/core/oracle/checks.hpp"

using namespace lastack;
using namespace lastack::testing;
using Catch::Matchers::Contains;
using enum Role;

namespace {

constexpr Side client = Side::client, server = Side::server;
using S = TcpState;

WireEvent& wire_at(Trace& t, double at_ms, Side from) {
  for (auto& e : t.events)
    if (auto* w = std::get_if<WireEvent>(&e); w && w->at == ms(at_ms) && w->info.from == from) return *w;
  FAIL("no wire event at " << at_ms << " ms");
  throw;
}

// The peer of `w`'s sender acknowledges `rel` of the sender's sequence space.
void set_ack(WireEvent& w, std::uint32_t rel) {
  w.segment.ack = SeqNum((w.info.from == client ? server_isn : client_isn) + rel);
  w.info.rel_ack = rel;
}

void set_seq(WireEvent& w, std::uint32_t rel) {
  w.segment.seq = SeqNum((w.info.from == client ? client_isn : server_isn) + rel);
  w.info.rel_seq = rel;
}

// drop_final_ack_trace with exact kernel states instead of samples: the tracepoint's full-socket
// changes, no sock_diag sample at all, TIME_WAIT overflow counters read as 0.
Trace traced_close() {
  Trace t = drop_final_ack_trace();
  std::erase_if(t.events, [](const TraceEvent& e) { return std::holds_alternative<SocketEvent>(e); });
  TraceBuilder b;
  b.trace = t;
  b.state(0.0, client, S::CLOSE, S::SYN_SENT);
  b.state(0.15, client, S::SYN_SENT, S::ESTABLISHED);
  b.state(0.25, server, S::LISTEN, S::SYN_RECV);
  b.state(0.25, server, S::SYN_RECV, S::ESTABLISHED);
  b.state(2.0, client, S::ESTABLISHED, S::FIN_WAIT1);
  b.state(2.05, server, S::ESTABLISHED, S::CLOSE_WAIT);
  b.state(2.15, client, S::FIN_WAIT1, S::FIN_WAIT2);
  b.state(52.3, server, S::CLOSE_WAIT, S::LAST_ACK);
  b.state(52.35, client, S::FIN_WAIT2, S::CLOSE).facts->peer_fin = true;  // tcp_fin: hands over to TIME_WAIT
  b.state(256.45, server, S::LAST_ACK, S::CLOSE);
  t = b.trace;
  std::stable_sort(t.events.begin(), t.events.end(),
                   [](const TraceEvent& a, const TraceEvent& c) { return event_time(a) < event_time(c); });
  t.kernel_source = KernelSource::traced;
  t.timewait_overflow.client = 0;
  t.timewait_overflow.server = 0;
  return t;
}

// The server's FIN sent at 10 ms and resent at the given gaps (every copy but the last dropped).
Trace fin_chain(std::initializer_list<double> gaps_ms) {
  TraceBuilder b;
  b.socket(0, server, S::ESTABLISHED, 204);
  b.wire(0, client, "S", 0, 0, 0, {syn});
  b.wire(0.1, server, "S.", 0, 1, 0, {syn_ack});
  b.wire(0.2, client, ".", 1, 1, 0, {handshake_ack, ack});
  double t = 10;
  b.wire(t, server, "F.", 1, 1, 0, {fin, second_fin}, Fate::dropped);
  std::size_t left = gaps_ms.size();
  for (double g : gaps_ms) {
    t += g;
    b.wire(t, server, "F.", 1, 1, 0, {fin, second_fin, retransmission}, --left ? Fate::dropped : Fate::passed);
  }
  b.trace.wire_resolution = std::chrono::microseconds(0);
  return b.trace;
}

CheckResult invariant(const Trace& t, std::string_view name) {
  for (const CheckResult& r : check_invariants(t, Policy{}))
    if (r.name == name) return r;
  FAIL("no invariant " << name);
  throw;
}

}  // namespace

// ---- outcomes and verdicts ----

TEST_CASE("every built-in invariant is not applicable or not checked on an empty trace, never passed") {
  for (const CheckResult& r : check_invariants(Trace{}, Policy{})) {
    INFO(r.name << ": " << r.saw);
    if (r.finding.check.kind == CheckKind::harness_queue_drops) continue;  // 0 drops is a fact even of an empty run
    CHECK((r.outcome == Outcome::not_applicable || r.outcome == Outcome::not_checked));
  }
}

TEST_CASE("no expectation passes on an empty trace") {
  std::vector<Expectation> all = {RetransmittedExpect{}, StateExpect{}, ResetExpect{}, AppExpect{},
                                  TimeWaitExpect{}, SegmentsExpect{}, CloseExpect{}, ConnectionsExpect{},
                                  CounterExpect{Side::server, "Tcp.OutRsts", CountBound<std::int64_t>{.count = 0}, 1}};
  ResetExpect no_rst;
  no_rst.count = 0;
  SegmentsExpect no_segments;
  no_segments.bound.count = 0;
  ConnectionsExpect no_connections;
  no_connections.count = 0;
  TimeWaitExpect nobody;
  nobody.entered_by = std::vector<SideRef>{};
  for (const Expectation& e : {Expectation(no_rst), Expectation(no_segments), Expectation(no_connections),
                               Expectation(nobody)})
    all.push_back(e);
  AppExpect app;
  app.sees = "ok";
  all.push_back(app);
  for (const Expectation& e : all) {
    const CheckResult r = check_expectation(Trace{}, e);
    INFO(r.name << ": " << r.saw);
    CHECK_FALSE(r.passed());
  }
  // A count of nothing proves nothing: not checked, for want of a wire.
  for (const Expectation& e : {Expectation(no_rst), Expectation(no_segments), Expectation(no_connections)})
    CHECK(why_not(check_expectation(Trace{}, e)) == Unjudged::nothing_on_wire);
}

TEST_CASE("a run fails on a failed check, is inconclusive on an unchecked expectation, else passes") {
  CheckResult pass{"a", false, Outcome::pass, "", "", 1};
  CheckResult fail{"b", false, Outcome::fail, "", "", 2};
  CheckResult unchecked{"state client reaches FIN_WAIT_2", false, Outcome::not_checked, "", "never sampled", 3};
  CheckResult builtin_unchecked{"legal-states", true, Outcome::not_checked, "", "sampled", 0};
  CheckResult builtin_na{"retransmission-backoff", true, Outcome::not_applicable, "", "", 0};
  CHECK(run_verdict({pass, builtin_unchecked, builtin_na}) == RunVerdict::pass);
  CHECK(run_verdict({pass, unchecked}) == RunVerdict::inconclusive);
  CHECK(run_verdict({unchecked, fail}) == RunVerdict::fail);
  const auto why = unchecked_reasons({pass, unchecked, builtin_unchecked});
  REQUIRE(why.size() == 1);
  CHECK(why[0] == "state client reaches FIN_WAIT_2 (line 3): never sampled");
}

TEST_CASE("the verdict table says NOT CHECKED with the reason, N/A, and the sampling note") {
  const std::string table = render_verdicts(
      {CheckResult{"retransmission-backoff", true, Outcome::not_applicable, "x", "no sequence number retransmitted", 0},
       CheckResult{"state client reaches FIN_WAIT_2", false, Outcome::not_checked, "it", "FIN_WAIT_2 was never sampled", 9}},
      false, sampling_note);
  CHECK_THAT(table, Contains("N/A          invariant  retransmission-backoff"));
  CHECK_THAT(table, Contains("NOT CHECKED  policy:9"));
  CHECK_THAT(table, Contains("not checked: FIN_WAIT_2 was never sampled"));
  CHECK_THAT(table, Contains("2 checks: 0 passed, 0 failed, 1 not checked, 1 not applicable"));
  CHECK_THAT(table, Contains("(states sampled every 2 ms; short states may be missed)"));
}

TEST_CASE("an inconclusive run is skipped in JUnit with the check and the reason") {
  JUnitCase c;
  c.policy = "p";
  c.verdict = RunVerdict::inconclusive;
  c.failed.push_back({"state client reaches FIN_WAIT_2", false, Outcome::not_checked, "", "never sampled", 12});
  c.note = std::string(sampling_note);
  const std::string xml = render_junit({c}, std::chrono::duration<double>(1.0));
  CHECK_THAT(xml, Contains("skipped=\"1\""));
  CHECK_THAT(xml, Contains("<skipped message=\"inconclusive: state client reaches FIN_WAIT_2 (line 12): "
                           "not checked: never sampled\"/>"));
  CHECK_THAT(xml, Contains("<system-out>states sampled every 2 ms; short states may be missed</system-out>"));
}

TEST_CASE("the JSON run record names the kernel source, the sampling note and the verdict") {
  std::ostringstream out;
  write_jsonl(drop_final_ack_trace(), {CheckResult{"x", false, Outcome::not_checked, "", "", 1}}, out);
  const std::string first = out.str().substr(0, out.str().find('\n'));
  CHECK_THAT(first, Contains("\"kernel_source\":\"sampled\""));
  CHECK_THAT(first, Contains("\"sampling_note\":\"states sampled every 2 ms; short states may be missed\""));
  CHECK_THAT(first, Contains("\"verdict\":\"INCONCLUSIVE\""));
  CHECK_THAT(out.str(), Contains("\"outcome\":\"not-checked\""));
}

// ---- syn-fin-consume-seq ----

TEST_CASE("syn-fin-consume-seq: passes, fails on an ACK at seq + len, N/A without SYN or FIN") {
  CHECK(invariant(drop_final_ack_trace(), "syn-fin-consume-seq").passed());
  Trace t = drop_final_ack_trace();
  set_ack(wire_at(t, 2.1, server), 1001);  // the client's FIN at 1001 acknowledged as 1001
  set_ack(wire_at(t, 52.3, server), 1001);
  set_ack(wire_at(t, 256.3, server), 1001);
  const auto r = invariant(t, "syn-fin-consume-seq");
  CHECK(r.outcome == Outcome::fail);
  REQUIRE_FALSE(seen<ControlsSeen>(r).problems.empty());
  CHECK(seen<ControlsSeen>(r).problems[0].miss == ControlMiss::short_ack);
  CHECK(seen<ControlsSeen>(r).problems[0].saw == 1001);
  CHECK_THAT(r.saw, Contains("FIN from client seq 1001 acknowledged with ack 1001 (seq + len), not 1002: the FIN "
                             "consumed no sequence number"));

  TraceBuilder b;
  b.wire(1, client, "P.", 1, 1, 100, {data});
  CHECK(invariant(b.trace, "syn-fin-consume-seq").outcome == Outcome::not_applicable);
}

TEST_CASE("syn-fin-consume-seq fails when the sender's next segment does not continue at seq + len + 1") {
  Trace t = drop_final_ack_trace();
  set_seq(wire_at(t, 52.4, client), 1001);  // the final ACK reuses the FIN's sequence number
  set_seq(wire_at(t, 256.4, client), 1001);
  const auto r = invariant(t, "syn-fin-consume-seq");
  CHECK(r.outcome == Outcome::fail);
  REQUIRE_FALSE(seen<ControlsSeen>(r).problems.empty());
  CHECK(seen<ControlsSeen>(r).problems[0].miss == ControlMiss::next);
  CHECK(seen<ControlsSeen>(r).problems[0].saw == 1001);
}

// ---- dropped-is-retransmitted ----

TEST_CASE("dropped-is-retransmitted: fails when the retransmission is removed") {
  Trace t = fin_chain({204});
  CHECK(invariant(t, "dropped-is-retransmitted").passed());
  std::erase_if(t.events, [](const TraceEvent& e) {
    const auto* w = std::get_if<WireEvent>(&e);
    return w && w->info.roles.has(retransmission);
  });
  // The run went on well past the RTO: the retransmission had its time to come.
  t.events.emplace_back(LabEvent{Instant(std::chrono::seconds(2)), "settled"});
  const auto r = invariant(t, "dropped-is-retransmitted");
  CHECK(r.outcome == Outcome::fail);
  REQUIRE(seen<DropsSeen>(r).drops.size() == 1);
  CHECK(seen<DropsSeen>(r).drops[0].end == DropEnd::never_resent);
}

// ---- retransmission-backoff ----

TEST_CASE("retransmission-backoff: doubling passes, five equal gaps fail, one retransmission is N/A") {
  CHECK(invariant(fin_chain({204, 408, 816, 1632}), "retransmission-backoff").passed());
  const auto r = invariant(fin_chain({204, 204, 204, 204, 204}), "retransmission-backoff");
  CHECK(r.outcome == Outcome::fail);
  REQUIRE(seen<BackoffSeen>(r).broken.size() == 1);
  const BackoffProblem& p = seen<BackoffSeen>(r).broken[0].problem.value();
  CHECK(p.measured == std::chrono::milliseconds(204));
  CHECK(p.nominal == std::chrono::milliseconds(408));
  CHECK(p.bound.late > Duration{});
  CHECK_THAT(r.saw, Contains("is 204 ms, not 408 ms (double gap"));
  CHECK_THAT(r.saw, Contains("bound -"));
  CHECK(invariant(fin_chain({204}), "retransmission-backoff").outcome == Outcome::not_applicable);
}

TEST_CASE("retransmission-backoff takes the kernel's causes: a loss probe and a fast retransmit do not back off") {
  TraceBuilder b;
  b.trace = fin_chain({20, 204, 408});
  // The kernel's own numbers: the RTO each timer was armed with, and its backoff so far.
  b.retransmit(30, server, 1, RetransmitCause::loss_probe).rto = std::chrono::milliseconds(204);
  b.retransmit(234, server, 1, RetransmitCause::rto).rto = std::chrono::milliseconds(204);
  KernelRetransmit& third = b.retransmit(642, server, 1, RetransmitCause::rto);
  third.rto = std::chrono::milliseconds(408);
  third.backoff = 1;
  std::stable_sort(b.trace.events.begin(), b.trace.events.end(),
                   [](const TraceEvent& a, const TraceEvent& c) { return event_time(a) < event_time(c); });
  const auto r = invariant(b.trace, "retransmission-backoff");
  CHECK(r.passed());
  REQUIRE(seen<BackoffSeen>(r).kept.size() == 1);
  CHECK(seen<BackoffSeen>(r).kept[0].causes ==
        std::vector{RetransmitCause::loss_probe, RetransmitCause::rto, RetransmitCause::rto});
  CHECK_THAT(r.saw, Contains("causes: loss-probe, rto, rto"));

  // The same gaps, but the kernel says the second was a timer retransmission: 204 after 20 fails.
  TraceBuilder c;
  c.trace = fin_chain({20, 204, 300});
  c.retransmit(30, server, 1, RetransmitCause::rto);
  c.retransmit(234, server, 1, RetransmitCause::rto);
  c.retransmit(534, server, 1, RetransmitCause::rto);
  std::stable_sort(c.trace.events.begin(), c.trace.events.end(),
                   [](const TraceEvent& a, const TraceEvent& d) { return event_time(a) < event_time(d); });
  CHECK(invariant(c.trace, "retransmission-backoff").outcome == Outcome::fail);
}

TEST_CASE("retransmission-backoff allows tcp_syn_linear_timeouts for an active SYN") {
  TraceBuilder b;
  double t = 0;
  b.wire(t, client, "S", 0, 0, 0, {syn}, Fate::dropped);
  for (double g : {1000, 1000, 1000, 1000, 1000, 2000}) {
    t += g;
    b.wire(t, client, "S", 0, 0, 0, {syn, retransmission}, Fate::dropped);
  }
  b.trace.wire_resolution = std::chrono::microseconds(0);
  const auto linear = invariant(b.trace, "retransmission-backoff");  // default: 4 linear
  CHECK(linear.passed());
  CHECK(seen<BackoffSeen>(linear).kept.at(0).syn_linear == 4);
  b.trace.sysctls.client["net.ipv4.tcp_syn_linear_timeouts"] = "0";
  CHECK(invariant(b.trace, "retransmission-backoff").outcome == Outcome::fail);
}

// ---- legal-states ----

TEST_CASE("legal-states: traced single steps pass, LISTEN → TIME_WAIT and ESTABLISHED → SYN_SENT fail") {
  const auto ok = invariant(traced_close(), "legal-states");
  CHECK(ok.passed());
  CHECK_THAT(ok.saw, Contains("FIN_WAIT_2 (traced) → timewait socket in TIME_WAIT (handed over at its traced close)"));

  TraceBuilder b;
  b.trace = traced_close();
  b.state(300, server, S::LISTEN, S::TIME_WAIT).cookie = 99;  // another socket, same four-tuple
  const auto bad = invariant(b.trace, "legal-states");
  CHECK(bad.outcome == Outcome::fail);
  REQUIRE(seen<LegalStatesSeen>(bad).problems.size() == 1);
  CHECK(seen<LegalStatesSeen>(bad).problems[0].miss == StepMiss::not_a_step);
  CHECK_THAT(bad.saw, Contains("LISTEN → TIME_WAIT is not a step of the TCP state diagram (traced)"));

  TraceBuilder s;
  s.socket(0, client, S::ESTABLISHED);
  s.socket(2, client, S::SYN_SENT);
  const auto back = invariant(s.trace, "legal-states");
  CHECK(back.outcome == Outcome::fail);
  CHECK_THAT(back.saw, Contains("ESTABLISHED → SYN_SENT is not reachable"));

  TraceBuilder l;
  l.socket(0, server, S::LISTEN).remote_port = 0;
  l.socket(2, server, S::TIME_WAIT).remote_port = 0;
  CHECK(invariant(l.trace, "legal-states").outcome == Outcome::fail);
}

TEST_CASE("legal-states: a sampled jump over states is not checked, never a silent pass") {
  TraceBuilder b;
  b.socket(0, client, S::ESTABLISHED);
  b.socket(2, client, S::TIME_WAIT);  // FIN_WAIT_1 and FIN_WAIT_2 fell between samples
  const auto r = invariant(b.trace, "legal-states");
  CHECK(r.outcome == Outcome::not_checked);
  CHECK(why_not(r) == Unjudged::between_samples);
  REQUIRE(seen<LegalStatesSeen>(r).problems.size() == 1);
  CHECK(seen<LegalStatesSeen>(r).problems[0].miss == StepMiss::between);
  CHECK_THAT(r.saw, Contains("ESTABLISHED → TIME_WAIT skips states between samples"));
  CHECK_THAT(r.saw, Contains("sampled every 2 ms"));
}

// ---- timewait-only-active-closers ----

TEST_CASE("timewait-only-active-closers: traced, the close decides TIME_WAIT, overflow unknown is not checked") {
  CHECK(invariant(traced_close(), "timewait-only-active-closers").passed());
  Trace t = traced_close();
  t.timewait_overflow.client.reset();
  const auto r = invariant(t, "timewait-only-active-closers");
  CHECK(r.outcome == Outcome::not_checked);
  CHECK_THAT(r.saw, Contains("TIME_WAIT overflow counter was not read"));
  t.timewait_overflow.client = 1;  // one hand-over, no timewait socket sampled, one overflow: it skipped
  CHECK_THAT(invariant(t, "timewait-only-active-closers").saw,
             Contains("client closed first, no TIME_WAIT, skipped TIME_WAIT (TcpExt.TCPTimeWaitOverflow counted it)"));
}

TEST_CASE("timewait-only-active-closers fails when the passive closer enters TIME_WAIT (traced)") {
  TraceBuilder b;
  b.trace = traced_close();
  b.state(256.45, server, S::LAST_ACK, S::CLOSE);
  Trace t = traced_close();
  for (auto& e : t.events)
    if (auto* c = std::get_if<StateChange>(&e); c && c->side == server && c->from == S::CLOSE_WAIT) c->to = S::CLOSING;
  for (auto& e : t.events)
    if (auto* c = std::get_if<StateChange>(&e); c && c->side == server && c->from == S::LAST_ACK) c->from = S::CLOSING;
  const auto r = invariant(t, "timewait-only-active-closers");
  CHECK(r.outcome == Outcome::fail);
  CHECK(seen<ClosersSeen>(r).connections.at(0).sides.server.turn == CloseTurn::second);
  CHECK(seen<ClosersSeen>(r).connections.at(0).sides.server.timewait == Entered::yes);
}

// ---- bytes-delivered ----

TEST_CASE("bytes-delivered fails naming a corrupted byte range and where the bytes came from") {
  TraceBuilder b;
  b.app(1, client, "send 2000", "ok", 2000);
  auto& read = b.app(2, server, "recv-until-eof", "eof", 2000);
  read.agent_step()->corrupted = ByteRange{1000, 1500};
  read.agent_step()->corrupted_from = PatternOrigin{client, 0, 0};
  const auto r = check_bytes_delivered(b.trace, Policy{});
  CHECK(r.outcome == Outcome::fail);
  REQUIRE(seen<DeliverySeen>(r).corrupted.size() == 1);
  const CorruptedRead& bad = seen<DeliverySeen>(r).corrupted[0];
  CHECK(bad.reader == server);
  CHECK(bad.range == ByteRange{1000, 1500});
  CHECK(bad.connection == ConnectionNumber{1});
  CHECK(r.saw == "server recv-until-eof: bytes 1000..1500 of the stream are not what the client wrote (they are the "
                 "client's bytes 0.. of connection 1)");
}

TEST_CASE("bytes-delivered under connections = N names the connection the foreign bytes came from by its client port") {
  TraceBuilder b;
  b.app(1, client, "send 2000", "ok", 2000);
  auto& read = b.app(2, server, "recv-until-eof", "eof", 2000);
  read.agent_step()->corrupted = ByteRange{0, 2000};
  read.agent_step()->corrupted_from = PatternOrigin{client, 40218, 0};  // another copy's stream
  Policy policy;
  policy.scenario.connections = 12;
  const auto r = check_bytes_delivered(b.trace, policy);
  CHECK(r.outcome == Outcome::fail);
  CHECK_FALSE(seen<DeliverySeen>(r).corrupted.at(0).connection);
  CHECK(seen<DeliverySeen>(r).corrupted.at(0).origin->stream == 40218);
  CHECK_THAT(r.saw, Contains("they are the client's bytes 0.. of the connection from client port 40218"));
}

TEST_CASE("stale-from: passes naming the old bytes, fails without them or from another connection") {
  // Connection 2's first bytes are the client's bytes of connection 1: an old duplicate landed.
  TraceBuilder b;
  b.app(1, client, "send 65536", "ok", 65536);
  auto& read = b.app(2, server, "recv-until-eof", "eof", 65536);
  read.agent_step()->corrupted = ByteRange{0, 9000};
  read.agent_step()->corrupted_from = PatternOrigin{client, 0, 2345678};
  AppExpect x;
  x.side = server;
  x.stale_from = ConnectionNumber{1};
  const auto pass = check_app(b.trace, x);
  CHECK(pass.outcome == Outcome::pass);
  REQUIRE(seen<AppSeen>(pass).stale);
  CHECK(*seen<AppSeen>(pass).stale == StaleRead{server, "recv-until-eof", ByteRange{0, 9000}, client, ConnectionNumber{1}, 2345678});
  CHECK_THAT(pass.saw, Contains("bytes 0..9000 of its stream are the client's bytes 2345678.. of connection 1"));
  Policy expecting;
  expecting.expect.push_back(x);
  // The builtin leaves the expected old bytes to this check, and fails on any other corruption.
  CHECK(check_bytes_delivered(b.trace, expecting).outcome == Outcome::pass);
  CHECK(check_bytes_delivered(b.trace, Policy{}).outcome == Outcome::fail);

  x.stale_from = ConnectionNumber{2};
  const auto other = check_app(b.trace, x);
  CHECK(other.outcome == Outcome::fail);
  CHECK(seen<AppSeen>(other).problems == std::vector<AppMiss>{AppMiss::no_stale});
  CHECK_FALSE(seen<AppSeen>(other).stale);
  CHECK(check_bytes_delivered(b.trace, [&] { Policy p; p.expect.push_back(x); return p; }()).outcome == Outcome::fail);

  read.agent_step()->corrupted.reset();
  read.agent_step()->corrupted_from.reset();
  x.stale_from = ConnectionNumber{1};
  CHECK(check_app(b.trace, x).outcome == Outcome::fail);
}

TEST_CASE("bytes-delivered is not checked when the reads were not verified") {
  TraceBuilder b;
  b.app(1, client, "send 10", "ok", 10);
  b.app(2, server, "recv 10", "ok", 10).agent_step()->verified = false;
  const auto r = check_bytes_delivered(b.trace, Policy{});
  CHECK(r.outcome == Outcome::not_checked);
  CHECK(why_not(r) == Unjudged::unverified);
  CHECK(seen<DeliverySeen>(r).unverified);
}

// ---- expectations ----

TEST_CASE("retransmitted: passes, fails when the retransmission is removed") {
  RetransmittedExpect x;
  x.segment.segment = second_fin;
  x.segment.from = server;
  CHECK(check_retransmitted(with_kernel_retransmits(drop_final_ack_trace()), x).passed());
  Trace t = drop_final_ack_trace();
  std::erase_if(t.events, [](const TraceEvent& e) {
    const auto* w = std::get_if<WireEvent>(&e);
    return w && w->info.roles.has(retransmission);
  });
  const auto r = check_retransmitted(with_kernel_retransmits(t), x);
  CHECK(r.outcome == Outcome::fail);
  CHECK(seen<RetransmissionsSeen>(r).again.empty());
}

TEST_CASE("retransmitted with backoff fails on equal gaps and names the bound") {
  RetransmittedExpect x;
  x.segment.segment = second_fin;
  x.backoff = true;
  CHECK(check_retransmitted(with_kernel_retransmits(fin_chain({204, 408, 816})), x).passed());
  const auto r = check_retransmitted(with_kernel_retransmits(fin_chain({204, 204, 204, 204, 204})), x);
  CHECK(r.outcome == Outcome::fail);
  const auto& problems = seen<RetransmissionsSeen>(r).problems;
  REQUIRE_FALSE(problems.empty());
  CHECK(problems[0].gap == 2);
  CHECK(problems[0].nominal == std::chrono::milliseconds(408));
  CHECK(problems[0].bound.timer > Duration{});
  CHECK_THAT(r.saw, Contains("not 408 ms (double gap") && Contains("timer +"));
}

TEST_CASE("state: traced gives exact answers, TIME_WAIT from the close's own fields") {
  StateExpect x;
  x.side = client;
  x.reaches = S::TIME_WAIT;
  x.never = S::CLOSE_WAIT;
  const auto r = check_state(traced_close(), x);
  CHECK(r.passed());
  REQUIRE(seen<StatesSeen>(r).sockets.size() == 1);
  CHECK(seen<StatesSeen>(r).sockets[0].steps.back() ==
        PathStep{S::TIME_WAIT, StateKnown::timewait_socket, PathEvidence::handover, false});
  CHECK_THAT(r.saw, Contains("FIN_WAIT_2 (traced) → timewait socket in TIME_WAIT (handed over at its traced close)"));
  x.reaches = S::CLOSING;
  const auto bad = check_state(traced_close(), x);
  CHECK(bad.outcome == Outcome::fail);
  CHECK(seen<StatesSeen>(bad).problems == std::vector<StateProblem>{{StateMiss::never_reached, S::CLOSING}});
}

TEST_CASE("state: sampled evidence is one-sided") {
  StateExpect x;
  x.side = server;
  x.reaches = S::LAST_ACK;  // sampled: seen
  CHECK(check_state(drop_final_ack_trace(), x).passed());
  x.reaches = S::SYN_RECV;  // not sampled: proves nothing
  const auto r = check_state(drop_final_ack_trace(), x);
  CHECK(r.outcome == Outcome::not_checked);
  REQUIRE(seen<StatesSeen>(r).unknowns.size() == 1);
  CHECK(seen<StatesSeen>(r).problems.empty());
  CHECK_THAT(r.saw, Contains("SYN_RECV was never sampled"));
  x.reaches.reset();
  x.never = S::CLOSE_WAIT;  // sampled: seen, so "never" fails
  CHECK(check_state(drop_final_ack_trace(), x).outcome == Outcome::fail);
  x.never = S::FIN_WAIT1;   // not sampled, but CLOSE_WAIT rules it out: no path between them
  CHECK(check_state(drop_final_ack_trace(), x).passed());
  x.never = S::SYN_RECV;    // not sampled, and it could have come before ESTABLISHED: not checked
  const auto open = check_state(drop_final_ack_trace(), x);
  CHECK(open.outcome == Outcome::not_checked);
  CHECK_THAT(open.saw, Contains("sampled every 2 ms"));
}

TEST_CASE("state ends-in is not checked when the last state is not known") {
  StateExpect x;
  x.side = client;
  x.ends_in = S::TIME_WAIT;
  CHECK(check_state(drop_final_ack_trace(), x).passed());  // nothing on the wire near the end
  TraceBuilder b;
  b.trace = drop_final_ack_trace();
  b.wire(799, client, ".", 1002, 2, 0, {ack});  // a segment in the last sample interval
  const auto r = check_state(b.trace, x);
  CHECK(r.outcome == Outcome::not_checked);
  CHECK(seen<StatesSeen>(r).unknowns.size() == 1);
  CHECK_THAT(r.saw, Contains("last state of client socket 40000→8080 is not known"));
}

TEST_CASE("reset: the kernel's RSTs only, unless injected ones are asked for") {
  TraceBuilder b;
  b.wire(1, client, "S", 0, 0, 0, {syn});
  auto& rst_w = b.wire(5, server, "R.", 1, 1, 0, {Role::rst});
  rst_w.injected = true;
  ResetExpect x;
  x.from = server;
  x.count = 1;
  const auto kernel_only = check_reset(b.trace, x);
  CHECK(kernel_only.outcome == Outcome::fail);
  CHECK(seen<SegmentsSeen>(kernel_only).injected_ignored == 1);
  CHECK(seen<SegmentsSeen>(kernel_only).matched.empty());
  CHECK_THAT(kernel_only.saw, Contains("1 RST injected by lastack, not counted"));
  x.injected = true;
  const auto with_injected = check_reset(b.trace, x);
  CHECK(with_injected.passed());
  CHECK(claim<CountClaim>(with_injected).injected_too);
  REQUIRE(seen<SegmentsSeen>(with_injected).matched.size() == 1);
  CHECK(seen<SegmentsSeen>(with_injected).matched[0].injected);
}

TEST_CASE("app: the typed errno decides, not the display text") {
  TraceBuilder b;
  b.app(1, client, "connect", "ok");
  auto& send = b.app(2, client, "send 10", "connection reset", 0);
  send.result = StepResult::error;
  send.error = ECONNRESET;
  AppExpect x;
  x.side = client;
  x.sees = "ECONNRESET";
  CHECK(check_app(b.trace, x).passed());
  x.sees = "EPIPE";
  const auto r = check_app(b.trace, x);
  CHECK(r.outcome == Outcome::fail);
  CHECK(seen<AppSeen>(r).problems == std::vector<AppMiss>{AppMiss::not_seen});
  CHECK_THAT(r.saw, Contains("no EPIPE"));
}

TEST_CASE("timewait: passes, fails on the wrong side, not checked when a RST may have cut it short") {
  TimeWaitExpect x;
  x.entered_by = std::vector<SideRef>{client};
  CHECK(check_timewait(drop_final_ack_trace(), x).passed());
  x.entered_by = std::vector<SideRef>{server};
  const auto wrong = check_timewait(drop_final_ack_trace(), x);
  CHECK(wrong.outcome == Outcome::fail);
  CHECK(seen<TimeWaitSeen>(wrong).problems == std::vector<TimeWaitProblem>{{TimeWaitMiss::entered_by, std::nullopt}});

  Trace t = drop_final_ack_trace();
  std::erase_if(t.events, [](const TraceEvent& e) {
    const auto* s = std::get_if<SocketEvent>(&e);
    return s && s->state == S::TIME_WAIT;
  });
  TraceBuilder b;
  b.trace = t;
  b.wire(53, server, "R", 2, 0, 0, {Role::rst}).injected = true;  // could end a TIME_WAIT unseen
  x.entered_by = std::vector<SideRef>{client};
  const auto r = check_timewait(b.trace, x);
  CHECK(r.outcome == Outcome::not_checked);
  const auto& tw = seen<TimeWaitSeen>(r);
  CHECK(tw.problems.empty());
  REQUIRE_FALSE(tw.unknowns.empty());
  CHECK(tw.unknowns.front().side == client);
  CHECK(tw.sides[0].entered == Entered::unknown);
}

TEST_CASE("segments, close and connections fail when the count differs") {
  SegmentsExpect seg;
  seg.segment.segment = fin;
  seg.bound.count = 3;
  CHECK(check_segments(drop_final_ack_trace(), seg).passed());
  seg.bound.count = 2;
  CHECK(check_segments(drop_final_ack_trace(), seg).outcome == Outcome::fail);

  CloseExpect close;
  close.segments = 4;  // first FIN through the first final-ack (dropped or not)
  CHECK(check_close(drop_final_ack_trace(), close).passed());
  close.segments = 6;
  const auto r = check_close(drop_final_ack_trace(), close);
  CHECK(r.outcome == Outcome::fail);
  REQUIRE(seen<ClosesSeen>(r).closes.size() == 1);
  CHECK(seen<ClosesSeen>(r).closes[0].segments.size() == 4);

  ConnectionsExpect conns;
  conns.count = 1;
  CHECK(check_connections(drop_final_ack_trace(), conns).passed());
  conns.count = 2;
  CHECK(check_connections(drop_final_ack_trace(), conns).outcome == Outcome::fail);
}

// ---- state histories ----

TEST_CASE("state history: a close the kernel says a reset caused is CLOSE, not TIME_WAIT") {
  Trace t = traced_close();
  for (auto& e : t.events)
    if (auto* c = std::get_if<StateChange>(&e); c && c->side == client && c->to == S::CLOSE)
      c->facts->error = ECONNRESET;  // tcp_reset set sk_err before tcp_done
  for (const StateHistory& h : state_histories(t)) {
    if (h.side != client) continue;
    CHECK_FALSE(h.reached(S::TIME_WAIT));
    CHECK(h.end == SocketEnd::error);
    CHECK(h.error == ECONNRESET);
  }
}

TEST_CASE("state history: an orphan's FIN_WAIT_2 hand-over reaches TIME_WAIT only by a sample, the wire's FIN only draws it") {
  Trace t = traced_close();
  for (auto& e : t.events)
    if (auto* c = std::get_if<StateChange>(&e); c && c->side == client && c->to == S::CLOSE) {
      c->at = ms(10);
      c->facts->peer_fin = false;  // closed before the peer's FIN: a timewait socket in FIN_WAIT_2
    }
  std::stable_sort(t.events.begin(), t.events.end(),
                   [](const TraceEvent& a, const TraceEvent& c) { return event_time(a) < event_time(c); });
  for (const StateHistory& h : state_histories(t)) {
    if (h.side != client) continue;
    CHECK(steps_text(h) == "SYN_SENT → ESTABLISHED → FIN_WAIT_1 → FIN_WAIT_2 (traced) → timewait socket in FIN_WAIT_2 "
                           "(handed over at its traced close) → timewait socket in TIME_WAIT (inferred from the wire)");
    CHECK_FALSE(h.reached(S::TIME_WAIT));  // the peer's FIN reached it on the wire: drawn, not evidence
  }
  StateExpect x;
  x.side = client;
  x.reaches = S::TIME_WAIT;
  CHECK(check_state(t, x).outcome == Outcome::not_checked);
  TraceBuilder b;
  b.trace = t;
  b.socket(53, client, S::TIME_WAIT, 0, 60000);  // now the kernel shows it
  CHECK(check_state(b.trace, x).passed());
}

TEST_CASE("the wire alone never rules TIME_WAIT out") {
  Trace t = drop_final_ack_trace();
  std::erase_if(t.events, [](const TraceEvent& e) {
    const auto* s = std::get_if<SocketEvent>(&e);
    return s && s->side == server;  // the server's socket was never sampled
  });
  TimeWaitExpect x;
  x.entered_by = std::vector<SideRef>{client};
  const auto r = check_timewait(t, x);  // its FIN (ack 1002) came from CLOSE_WAIT, but the wire is no kernel
  CHECK(r.outcome == Outcome::not_checked);
  const auto& tw = seen<TimeWaitSeen>(r);
  REQUIRE(tw.sides.size() == 2);
  CHECK(tw.sides[1].entered == Entered::unknown);
  CHECK(tw.unknowns == std::vector<TimeWaitUnknown>{{TimeWaitDoubt::who_unknown, server, 0}});
  CHECK_THAT(r.saw, Contains("no socket of the server observed"));
}

TEST_CASE("retransmitted ignores an RTO sampled before the handshake for a later segment") {
  TraceBuilder b;
  b.trace = fin_chain({204});
  std::erase_if(b.trace.events, [](const TraceEvent& e) { return std::holds_alternative<SocketEvent>(e); });
  b.socket(0, server, S::SYN_RECV, 1000);  // the initial RTO, before the handshake's RTT sample
  std::stable_sort(b.trace.events.begin(), b.trace.events.end(),
                   [](const TraceEvent& a, const TraceEvent& c) { return event_time(a) < event_time(c); });
  RetransmittedExpect x;
  x.segment.segment = second_fin;
  x.after = SenderRto{};
  const auto r = check_retransmitted(with_kernel_retransmits(b.trace), x);
  CHECK(r.passed());
  CHECK(claim<RetransmitClaim>(r).first_gap == GapClaim{std::chrono::milliseconds(200), GapSource::rto_min});
}
