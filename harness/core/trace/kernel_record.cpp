// BPF records into typed trace events: the kernel's own words (icsk_pending, timer expiry in
// jiffies, full socket or not) turned into the trace's.
#include "harness/core/trace/kernel_record.hpp"

#include <fmt/format.h>

#include <tuple>
#include <variant>

namespace lastack {

namespace {
constexpr std::uint8_t icsk_time_loss_probe = 5;  // ICSK_TIME_LOSS_PROBE

KernelRetransmit to_retransmit(const KernelRecord& r, Instant at, std::chrono::microseconds jiffy) {
  using Kind = KernelRecord::Kind;
  KernelRetransmit k;
  k.at = at;
  k.side = r.side;
  k.local_port = r.local_port;
  k.remote_port = r.remote_port;
  k.state = r.state;
  k.seq = SeqNum(r.seq);
  // One skb of several segments (TCP's GSO): the range it covered, each segment a retransmission.
  if (r.kind == Kind::retransmit && r.segments > 1) {
    k.segments = r.segments;
    k.length = r.end_seq - r.seq;
  }
  k.cause = r.kind == Kind::synack ? RetransmitCause::synack : retransmit_cause(r.pending);
  k.rto = r.rto;
  k.backoff = r.backoff;
  k.cookie = r.cookie;
  k.error = r.kind == Kind::retransmit ? r.error : 0;
  // Only a timer that fired is late: a fast retransmit or a duplicate SYN's answer is not
  // the timer's, and its expiry lies ahead.
  const bool timer_sent = r.kind == Kind::synack ? r.timer_late >= 0 : k.cause == RetransmitCause::rto;
  if (timer_sent && r.timer_late >= 0) k.timer_late = jiffy * r.timer_late;
  return k;
}

KernelReset to_reset(const KernelRecord& r, Instant at) {
  using Kind = KernelRecord::Kind;
  KernelReset k;
  k.at = at;
  k.side = r.side;
  k.local_port = r.local_port;
  k.remote_port = r.remote_port;
  // A reply to a stray segment comes from no full socket: the trace says CLOSE, not the timewait's.
  k.state = r.full_socket || r.kind == Kind::reset_received ? r.state : TcpState::CLOSE;
  k.sent = r.kind == Kind::reset_sent;
  k.cookie = r.cookie;
  k.timewait_substate = r.timewait_substate;
  return k;
}
}  // namespace

RetransmitCause retransmit_cause(std::uint8_t icsk_pending) {
  if (icsk_pending == 0) return RetransmitCause::rto;
  if (icsk_pending == icsk_time_loss_probe) return RetransmitCause::loss_probe;
  return RetransmitCause::fast;
}

TraceEvent to_trace_event(const KernelRecord& r, Instant at, std::chrono::microseconds jiffy) {
  using Kind = KernelRecord::Kind;
  switch (r.kind) {
    case Kind::state: {
      StateChange c{at, r.side, std::nullopt, r.local_port, r.remote_port, r.state, r.new_state, r.cookie};
      c.facts = StateChange::Facts{r.error, r.peer_fin, r.orphan, r.seq, r.rcv_nxt};
      return c;
    }
    case Kind::retransmit:
    case Kind::synack:
      return to_retransmit(r, at, jiffy);
    case Kind::reset_sent:
    case Kind::reset_received:
      break;
  }
  return to_reset(r, at);
}

namespace {
// The ports of a kernel event (every kind the kernel observer makes has them).
std::pair<std::uint16_t*, std::uint16_t*> ports_of(TraceEvent& e) {
  return std::visit([](auto& k) -> std::pair<std::uint16_t*, std::uint16_t*> {
    if constexpr (requires { k.local_port; k.remote_port; }) return {&k.local_port, &k.remote_port};
    return {nullptr, nullptr};
  }, e);
}
}  // namespace

KernelEventLog::KernelEventLog() { events_.reserve(64); }

void KernelEventLog::add(const KernelRecord& r, Instant at, std::chrono::microseconds jiffy) {
  if (r.kind == KernelRecord::Kind::state && twins_.is_twin(r.cookie, r.state, r.new_state, r.copy)) return;
  events_.push_back(to_trace_event(r, at, jiffy));
  if (r.cookie != 0) give_ports(r.cookie, events_.size() - 1);
}

void KernelEventLog::give_ports(SocketCookie socket, std::size_t index) {
  const auto [local, remote] = ports_of(events_[index]);
  if (!local) return;
  if (*local != 0) {
    if (auto it = portless_.find(socket); it != portless_.end()) {
      for (std::size_t i : it->second) {
        const auto [l, r] = ports_of(events_[i]);
        *l = *local;
        *r = *remote;
      }
      portless_.erase(it);
    }
    ports_of_socket_[socket] = {*local, *remote};
  } else if (auto it = ports_of_socket_.find(socket); it != ports_of_socket_.end()) {
    std::tie(*local, *remote) = it->second;
  } else {
    portless_[socket].push_back(index);
  }
}

std::vector<LabEvent> kernel_observer_misses(std::uint64_t lost, std::uint64_t unread, std::uint64_t skipped,
                                             Instant at) {
  std::vector<LabEvent> out;
  if (lost > 0)
    out.push_back({at, fmt::format("harness error: the BPF ring buffer lost {} kernel event{}", lost, lost == 1 ? "" : "s"),
                   LabEventKind::observer_missed, std::nullopt, 0, HarnessCause::observer_missed});
  if (unread > 0)
    out.push_back({at,
                   fmt::format("harness error: the BPF observer wrote {} kernel event{} the run never read", unread,
                               unread == 1 ? "" : "s"),
                   LabEventKind::observer_missed, std::nullopt, unread, HarnessCause::observer_missed});
  if (skipped > 0)
    out.push_back({at,
                   fmt::format("harness error: the kernel skipped the BPF observer {} time{} (it was already running "
                               "on that CPU): kernel events are missing",
                               skipped, skipped == 1 ? "" : "s"),
                   LabEventKind::observer_missed, std::nullopt, skipped, HarnessCause::observer_missed});
  return out;
}

}  // namespace lastack
