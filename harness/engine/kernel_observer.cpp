#include "harness/engine/kernel_observer.hpp"

#include <unistd.h>

#include <tuple>

#include "lastack/error.hpp"

namespace lastack {

namespace {
constexpr std::uint8_t icsk_time_loss_probe = 5;  // ICSK_TIME_LOSS_PROBE
}  // namespace

RetransmitCause retransmit_cause(std::uint8_t icsk_pending) {
  if (icsk_pending == 0) return RetransmitCause::rto;
  if (icsk_pending == icsk_time_loss_probe) return RetransmitCause::loss_probe;
  return RetransmitCause::fast;
}

TraceEvent to_trace_event(const sys::KernelRecord& r, const RunClock& clock, std::chrono::microseconds jiffy) {
  const Instant at = clock.from_monotonic(r.monotonic);
  using Kind = sys::KernelRecord::Kind;
  switch (r.kind) {
    case Kind::state: {
      StateChange c{at, r.side, std::nullopt, r.local_port, r.remote_port, r.state, r.new_state, r.cookie};
      c.facts = StateChange::Facts{r.error, r.peer_fin, r.orphan, r.seq, r.rcv_nxt};
      return c;
    }
    case Kind::retransmit:
    case Kind::synack: {
      KernelRetransmit k;
      k.at = at;
      k.side = r.side;
      k.local_port = r.local_port;
      k.remote_port = r.remote_port;
      k.state = r.state;
      k.seq = SeqNum(r.seq);
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
    case Kind::reset_sent:
    case Kind::reset_received:
      break;
  }
  KernelReset k;
  k.at = at;
  k.side = r.side;
  k.local_port = r.local_port;
  k.remote_port = r.remote_port;
  k.state = r.full_socket || r.kind == Kind::reset_received ? r.state : TcpState::CLOSE;
  k.sent = r.kind == Kind::reset_sent;
  k.cookie = r.cookie;
  k.timewait_substate = r.timewait_substate;
  return k;
}

KernelObserver::KernelObserver(asio::io_context& io, const RunClock& clock, sys::BpfObserver bpf)
    : clock_(clock), bpf_(std::move(bpf)), ready_(io, ::dup(bpf_.ready_fd())) {
  events_.reserve(64);
}

void KernelObserver::start() {
  drain();
  wait_readable();
}

void KernelObserver::stop() {
  drain();
  stopped_ = true;
  ready_.cancel();
}

void KernelObserver::drain() {
  bpf_.consume([this](const sys::KernelRecord& r) { add(r); });
}

std::uint64_t KernelObserver::skipped() const {
  const sys::ProgramMisses m = bpf_.misses();
  const std::uint64_t unpaired = twins_.unpaired();
  // Each skip a twin caught left one unpaired change; the rest were lost by both.
  const std::uint64_t state_skips = m.state + m.state_twin;
  return m.other + (state_skips > unpaired ? state_skips - unpaired : 0);
}

void KernelObserver::add(const sys::KernelRecord& r) {
  ++read_;
  if (r.kind == sys::KernelRecord::Kind::state && twins_.is_twin(r.cookie, r.state, r.new_state, r.copy)) return;
  events_.push_back(to_trace_event(r, clock_, jiffy()));
  if (r.cookie != 0) give_ports(r.cookie, events_.size() - 1);
}

namespace {
// The ports of a kernel event (every kind this observer makes has them).
std::pair<std::uint16_t*, std::uint16_t*> ports_of(TraceEvent& e) {
  return std::visit([](auto& k) -> std::pair<std::uint16_t*, std::uint16_t*> {
    if constexpr (requires { k.local_port; k.remote_port; }) return {&k.local_port, &k.remote_port};
    return {nullptr, nullptr};
  }, e);
}
}  // namespace

void KernelObserver::give_ports(SocketCookie socket, std::size_t index) {
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

void KernelObserver::wait_readable() {
  ready_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted || stopped_) return;  // normal shutdown
    if (ec) throw HarnessError("BPF ring buffer: " + ec.message());
    drain();
    wait_readable();
  });
}

}  // namespace lastack
