// BPF records into trace events: each kind, the retransmission's cause, and when a timer is late.
#include <catch2/catch.hpp>

#include "harness/core/trace/kernel_record.hpp"

using namespace lastack;
using namespace std::chrono_literals;

namespace {

KernelRecord record(KernelRecord::Kind kind) {
  KernelRecord r;
  r.kind = kind;
  r.cookie = 77;
  r.side = Side::server;
  r.local_port = 8080;
  r.remote_port = 40000;
  return r;
}

constexpr std::chrono::microseconds jiffy{4000};

}  // namespace

TEST_CASE("kernel record: icsk_pending names the retransmission's cause") {
  CHECK(retransmit_cause(0) == RetransmitCause::rto);
  CHECK(retransmit_cause(5) == RetransmitCause::loss_probe);  // ICSK_TIME_LOSS_PROBE
  CHECK(retransmit_cause(1) == RetransmitCause::fast);        // ICSK_TIME_RETRANS still armed
  CHECK(retransmit_cause(3) == RetransmitCause::fast);
}

TEST_CASE("kernel record: a state change keeps its socket's facts") {
  KernelRecord r = record(KernelRecord::Kind::state);
  r.state = TcpState::FIN_WAIT1;
  r.new_state = TcpState::CLOSE;
  r.error = 110;  // ETIMEDOUT
  r.orphan = true;
  r.seq = 1000;
  r.rcv_nxt = 2001;
  const TraceEvent e = to_trace_event(r, Instant(5ms), jiffy);
  const auto* c = std::get_if<StateChange>(&e);
  REQUIRE(c);
  CHECK(c->at == Instant(5ms));
  CHECK(c->side == Side::server);
  CHECK(c->local_port == 8080);
  CHECK(c->remote_port == 40000);
  CHECK(c->from == TcpState::FIN_WAIT1);
  CHECK(c->to == TcpState::CLOSE);
  CHECK(c->cookie == 77);
  CHECK(c->facts == StateChange::Facts{110, false, true, 1000, 2001});
}

TEST_CASE("kernel record: an RTO retransmission is the timer's, late by whole jiffies") {
  KernelRecord r = record(KernelRecord::Kind::retransmit);
  r.state = TcpState::ESTABLISHED;
  r.seq = 4242;
  r.pending = 0;
  r.rto = 200ms;
  r.backoff = 2;
  r.timer_late = 3;
  r.error = -105;  // ENOBUFS: it never left
  const TraceEvent e = to_trace_event(r, Instant(1s), jiffy);
  const auto* k = std::get_if<KernelRetransmit>(&e);
  REQUIRE(k);
  CHECK(k->cause == RetransmitCause::rto);
  CHECK(k->seq == SeqNum(4242));
  CHECK(k->rto == 200ms);
  CHECK(k->backoff == 2);
  CHECK(k->timer_late == std::chrono::microseconds(12000));
  CHECK(k->error == -105);
  CHECK(k->state == TcpState::ESTABLISHED);
}

TEST_CASE("kernel record: a fast retransmit or a probe has no timer lateness") {
  KernelRecord r = record(KernelRecord::Kind::retransmit);
  r.pending = 1;
  r.timer_late = 2;  // its expiry lies ahead in truth; whatever the record says, not the timer's
  auto fast = std::get<KernelRetransmit>(to_trace_event(r, Instant{}, jiffy));
  CHECK(fast.cause == RetransmitCause::fast);
  CHECK_FALSE(fast.timer_late);
  r.pending = 5;
  auto probe = std::get<KernelRetransmit>(to_trace_event(r, Instant{}, jiffy));
  CHECK(probe.cause == RetransmitCause::loss_probe);
  CHECK_FALSE(probe.timer_late);
  r.pending = 0;
  r.timer_late = -1;  // the timer had not expired: not read
  CHECK_FALSE(std::get<KernelRetransmit>(to_trace_event(r, Instant{}, jiffy)).timer_late);
}

TEST_CASE("kernel record: a SYN-ACK retransmission is the SYN-ACK timer's, its error not a transmit's") {
  KernelRecord r = record(KernelRecord::Kind::synack);
  r.pending = 1;  // ignored: a request socket's timer
  r.timer_late = 0;
  r.error = 5;
  auto k = std::get<KernelRetransmit>(to_trace_event(r, Instant{}, jiffy));
  CHECK(k.cause == RetransmitCause::synack);
  CHECK(k.timer_late == std::chrono::microseconds(0));
  CHECK(k.error == 0);
  r.timer_late = -1;  // a duplicate SYN's answer: not the timer's
  CHECK_FALSE(std::get<KernelRetransmit>(to_trace_event(r, Instant{}, jiffy)).timer_late);
}

TEST_CASE("kernel record: a reset keeps the socket's state only when a full socket sent or took it") {
  KernelRecord sent = record(KernelRecord::Kind::reset_sent);
  sent.state = TcpState::TIME_WAIT;
  sent.full_socket = false;
  sent.timewait_substate = TcpState::FIN_WAIT2;
  auto k = std::get<KernelReset>(to_trace_event(sent, Instant(2ms), jiffy));
  CHECK(k.sent);
  CHECK(k.state == TcpState::CLOSE);  // no full socket sent it
  CHECK(k.timewait_substate == TcpState::FIN_WAIT2);
  CHECK(k.cookie == 77);
  sent.full_socket = true;
  sent.state = TcpState::ESTABLISHED;
  CHECK(std::get<KernelReset>(to_trace_event(sent, Instant{}, jiffy)).state == TcpState::ESTABLISHED);
  KernelRecord got = record(KernelRecord::Kind::reset_received);
  got.state = TcpState::SYN_SENT;
  auto r = std::get<KernelReset>(to_trace_event(got, Instant{}, jiffy));
  CHECK_FALSE(r.sent);
  CHECK(r.state == TcpState::SYN_SENT);
}

TEST_CASE("kernel record: the observer's shortfalls are harness errors, each with its count") {
  CHECK(kernel_observer_misses(0, 0, 0, Instant(1s)).empty());
  const auto misses = kernel_observer_misses(1, 2, 3, Instant(1s));
  REQUIRE(misses.size() == 3);
  for (const LabEvent& e : misses) {
    CHECK(e.kind == LabEventKind::observer_missed);
    CHECK(e.at == Instant(1s));
  }
  CHECK(misses[0].what == "harness error: the BPF ring buffer lost 1 kernel event");
  CHECK(misses[1].what == "harness error: the BPF observer wrote 2 kernel events the run never read");
  CHECK(misses[1].count == 2);
  CHECK(misses[2].what ==
        "harness error: the kernel skipped the BPF observer 3 times (it was already running on that CPU): kernel "
        "events are missing");
  CHECK(misses[2].count == 3);
  const auto skipped = kernel_observer_misses(0, 0, 1, Instant{});
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0].count == 1);
}

namespace {

KernelRecord change(std::uint64_t cookie, TcpState from, TcpState to, std::uint16_t local, std::uint16_t remote,
                    std::uint8_t copy = 0) {
  KernelRecord r;
  r.kind = KernelRecord::Kind::state;
  r.cookie = cookie;
  r.state = from;
  r.new_state = to;
  r.local_port = local;
  r.remote_port = remote;
  r.copy = copy;
  return r;
}

std::pair<std::uint16_t, std::uint16_t> ports(const TraceEvent& e) {
  const auto& c = std::get<StateChange>(e);
  return {c.local_port, c.remote_port};
}

}  // namespace

TEST_CASE("kernel event log: the twin program's copy of a change is dropped, and counted when alone") {
  KernelEventLog log;
  log.add(change(9, TcpState::ESTABLISHED, TcpState::FIN_WAIT1, 40000, 8080, 0), Instant(1ms), jiffy);
  log.add(change(9, TcpState::ESTABLISHED, TcpState::FIN_WAIT1, 40000, 8080, 1), Instant(1ms), jiffy);
  CHECK(log.events().size() == 1);
  CHECK(log.unpaired() == 0);
  log.add(change(9, TcpState::FIN_WAIT1, TcpState::FIN_WAIT2, 40000, 8080, 1), Instant(2ms), jiffy);  // copy 0 skipped
  log.add(change(9, TcpState::FIN_WAIT2, TcpState::TIME_WAIT, 40000, 8080, 0), Instant(3ms), jiffy);
  log.add(change(9, TcpState::FIN_WAIT2, TcpState::TIME_WAIT, 40000, 8080, 1), Instant(3ms), jiffy);
  CHECK(log.events().size() == 3);
  CHECK(log.unpaired() == 1);
}

TEST_CASE("kernel event log: a change before the socket has ports takes them when they come") {
  KernelEventLog log;
  log.add(change(5, TcpState::CLOSE, TcpState::SYN_SENT, 0, 0), Instant(1ms), jiffy);  // before the port is chosen
  log.add(change(6, TcpState::CLOSE, TcpState::SYN_SENT, 0, 0), Instant(1ms), jiffy);  // another socket
  CHECK(ports(log.events()[0]) == std::pair<std::uint16_t, std::uint16_t>{0, 0});
  log.add(change(5, TcpState::SYN_SENT, TcpState::ESTABLISHED, 40000, 8080), Instant(2ms), jiffy);
  CHECK(ports(log.events()[0]) == std::pair<std::uint16_t, std::uint16_t>{40000, 8080});
  CHECK(ports(log.events()[1]) == std::pair<std::uint16_t, std::uint16_t>{0, 0});  // not its socket
  // After the port is released, the socket's CLOSE takes the ports it had.
  log.add(change(5, TcpState::LAST_ACK, TcpState::CLOSE, 0, 0), Instant(3ms), jiffy);
  CHECK(ports(log.events()[3]) == std::pair<std::uint16_t, std::uint16_t>{40000, 8080});
  // No cookie: no socket to take ports from.
  log.add(change(0, TcpState::LAST_ACK, TcpState::CLOSE, 0, 0), Instant(4ms), jiffy);
  CHECK(ports(log.events()[4]) == std::pair<std::uint16_t, std::uint16_t>{0, 0});
}
