// A RST injected by a lab action (inject-rst): the built-in invariants know it speaks for no
// kernel and that it may end a TIME_WAIT early; the ladder says where it came from.
#include <catch2/catch.hpp>

#include "harness/core/oracle/invariants.hpp"
#include "lastack/report.hpp"
#include "tests/unit/trace_builder.hpp"
#include "tests/unit/trace_mutations.hpp"

using namespace lastack;
using namespace lastack::testing;
using Catch::Matchers::Contains;
using enum Role;

namespace {

constexpr Side client = Side::client, server = Side::server;

/// A clean close, the client closing first; its TIME_WAIT sampled at 52.4 ms when `sampled`.
TraceBuilder clean_close(bool timewait_sampled) {
  TraceBuilder b;
  b.wire(0.0, client, "S", 0, 0, 0, {syn});
  b.wire(0.1, server, "S.", 0, 1, 0, {syn_ack});
  b.wire(0.2, client, ".", 1, 1, 0, {handshake_ack, ack});
  b.socket(0.2, client, TcpState::ESTABLISHED, 204);
  b.socket(0.3, server, TcpState::ESTABLISHED, 204);
  b.wire(2.0, client, "F.", 1, 1, 0, {fin, first_fin});
  b.socket(2.0, client, TcpState::FIN_WAIT1, 204);
  b.wire(2.1, server, ".", 1, 2, 0, {ack, first_fin_ack});
  b.socket(2.1, client, TcpState::FIN_WAIT2, 204);
  b.socket(2.2, server, TcpState::CLOSE_WAIT, 204);
  b.wire(52.3, server, "F.", 1, 2, 0, {fin, second_fin});
  b.wire(52.4, client, ".", 2, 2, 0, {ack, final_ack});
  if (timewait_sampled) b.socket(52.5, client, TcpState::TIME_WAIT, 0, 60000);
  b.socket(52.6, server, TcpState::CLOSE);
  return b;
}

/// `clean_close` as a traced run records it: the client's socket named by its cookie (7) in its
/// samples too, and no TIME_WAIT overflow counted.
TraceBuilder traced_close() {
  TraceBuilder b = clean_close(false);
  b.trace.kernel_source = KernelSource::traced;
  b.trace.counters.client = CounterDeltas{{"TcpExt.TCPTimeWaitOverflow", 0}};
  for (TraceEvent& e : b.trace.events)
    if (auto* s = std::get_if<SocketEvent>(&e); s && s->side == client) s->cookie = 7;
  return b;
}

/// The RST inject-rst puts on the wire toward `to`, in its peer's name, at `at_ms`.
void inject_rst_toward(TraceBuilder& b, double at_ms, Side to) {
  WireEvent& rst = b.wire(at_ms, peer_of(to), "R", 2, 0, 0, {Role::rst});
  rst.note = "injected by lab action 1: inject-rst";
  rst.injected = true;
}

}  // namespace

TEST_CASE("a TIME_WAIT ended by an injected RST passes, and the server is not said to abort") {
  TraceBuilder b = clean_close(true);
  inject_rst_toward(b, 152.4, client);
  b.socket(152.5, client, TcpState::CLOSE);
  const auto r = check_timewait_only_active_closers(b.trace);
  CHECK(r.passed());
  CHECK(r.saw == "client closed first, entered TIME_WAIT; server closed second, no TIME_WAIT");
}

TEST_CASE("a TIME_WAIT killed by an injected RST before any sample is not checked, never flagged as skipped") {
  TraceBuilder b = clean_close(false);
  inject_rst_toward(b, 52.45, client);
  b.socket(52.5, client, TcpState::CLOSE);
  const auto r = check_timewait_only_active_closers(b.trace);
  CHECK(r.outcome == Outcome::not_checked);
  CHECK_THAT(r.saw, Contains("client: TIME_WAIT was never sampled"));
}

TEST_CASE("a traced close decides TIME_WAIT from the socket's own fields, whatever RST the wire shows") {
  // The client's full socket closed from FIN_WAIT_2 with no error, no RST of its own and the
  // peer's FIN accepted, and its namespace counted no overflow: tcp_time_wait made its TIME_WAIT.
  TraceBuilder b = traced_close();
  b.state(2.0, client, TcpState::ESTABLISHED, TcpState::FIN_WAIT1).cookie = 7;
  b.state(2.1, client, TcpState::FIN_WAIT1, TcpState::FIN_WAIT2).cookie = 7;
  StateChange& close = b.state(52.4, client, TcpState::FIN_WAIT2, TcpState::CLOSE);
  close.cookie = 7;
  close.facts = StateChange::Facts{0, true, true};
  inject_rst_toward(b, 52.45, server);
  sort_by_time(b.trace);
  const auto r = check_timewait_only_active_closers(b.trace);
  CHECK(r.passed());
  CHECK_THAT(r.saw, Contains("client closed first, entered TIME_WAIT"));
}

TEST_CASE("a RST injected in the server's name does not excuse the server entering TIME_WAIT") {
  TraceBuilder b = clean_close(true);
  inject_rst_toward(b, 152.4, client);
  b.socket(152.6, server, TcpState::TIME_WAIT, 0, 60000);
  const auto r = check_timewait_only_active_closers(b.trace);
  CHECK_FALSE(r.passed());
  CHECK_THAT(r.saw, Contains("server entered TIME_WAIT but closed second"));
}

TEST_CASE("a traced socket that closed with a RST of its own is said to, and entered no TIME_WAIT") {
  TraceBuilder b = traced_close();
  b.state(2.1, client, TcpState::FIN_WAIT1, TcpState::FIN_WAIT2).cookie = 7;
  b.reset(52.44, client, TcpState::FIN_WAIT2).cookie = 7;  // tcp_keepalive_timer: RST, then tcp_done
  StateChange& close = b.state(52.45, client, TcpState::FIN_WAIT2, TcpState::CLOSE);
  close.cookie = 7;
  close.facts = StateChange::Facts{0, false, true};
  const auto r = check_timewait_only_active_closers(b.trace);
  CHECK(r.passed());
  CHECK_THAT(r.saw, Contains("client closed first, no TIME_WAIT, closed with a RST of its own"));
}

TEST_CASE("the ladder labels an injected RST with the lab action that sent it") {
  TraceBuilder b = clean_close(true);
  inject_rst_toward(b, 152.4, client);
  const std::string ladder = render_ladder(b.trace, {false, 100});
  CHECK_THAT(ladder, Contains("◀"));
  CHECK_THAT(ladder, Contains(" R seq 2 (injected by lab action 1: inject-rst) ──"));
}
