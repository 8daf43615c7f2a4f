#include "harness/engine/socket_observer.hpp"

#include "harness/core/trace/trace_query.hpp"

namespace lastack {

namespace {
SocketEvent to_event(const sys::SocketSnapshot& s, Side side, Instant now) {
  SocketEvent e;
  e.at = now;
  e.side = side;
  e.local_port = s.local_port;
  e.remote_port = s.remote_port;
  e.state = s.state;
  e.timer = static_cast<SocketTimer>(s.timer);
  e.expires = s.expires;
  e.retransmits = s.retrans;
  e.cookie = s.cookie_value();
  if (s.info) {
    e.retransmits = s.info->retransmits;
    e.total_retrans = s.info->total_retrans;
    e.rto = s.info->rto;
    e.rtt = s.info->rtt;
  }
  return e;
}

}  // namespace

SocketObserver::SocketObserver(asio::io_context& io, const RunClock& clock, PerSide<sys::SockDiag> diag,
                               IpFamily family, std::vector<std::uint16_t> ports,
                               bool listening_ports, std::chrono::microseconds jiffy, std::chrono::microseconds interval,
                               bool one_namespace)
    : io_(io),
      clock_(clock),
      diag_(std::move(diag)),
      family_(family),
      ports_(ports.begin(), ports.end()),
      listening_ports_(listening_ports),
      interval_(interval),
      timer_(io),
      one_namespace_(one_namespace),
      changes_{SocketChanges(jiffy), SocketChanges(jiffy)} {
  events_.reserve(256);
}

void SocketObserver::start() {
  sample();
  schedule();
}

void SocketObserver::sample_final() {
  list_all_ = true;  // the last sample lists every socket: one it does not list is gone
  sample();
  list_all_ = false;
}

void SocketObserver::stop() {
  stopped_ = true;
  timer_.cancel();
}

void SocketObserver::schedule() {
  if (stopped_) return;
  timer_.expires_after(interval_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted || stopped_) return;  // normal shutdown
    sample();
    schedule();
  });
}

bool SocketObserver::relevant(const sys::SocketSnapshot& s) const {
  // Listeners are a different socket from the connection; their state never changes.
  return s.state != TcpState::LISTEN && (ports_.count(s.local_port) || ports_.count(s.remote_port));
}

void SocketObserver::sample() {
  sample_side(Side::client);
  if (!one_namespace_) sample_side(Side::server);  // one namespace: the same sockets again
}

// Where listeners are: the server's namespace, or the one namespace (its client's handle).
Side SocketObserver::listener_side() const { return one_namespace_ ? Side::client : Side::server; }

void SocketObserver::learn_listeners(Side side) {
  // A port once listened on stays observed: its connections outlive the listener.
  if (!listening_ports_ || side != listener_side()) return;
  for (const auto& snap : snapshots_[side])
    if (snap.state == TcpState::LISTEN) ports_.insert(snap.local_port);
}

void SocketObserver::sample_side(Side side) {
  const Instant now = clock_.now();
  // Every 2 ms: reuse one buffer, and ask for listeners only where one teaches a port.
  const bool listeners = listening_ports_ && side == listener_side();
  auto& snapshots = snapshots_[side];
  diag_[side].dump_into(family_, snapshots, listeners ? sys::SocketStates::all : sys::SocketStates::connections);
  const SocketSample sample{now, clock_.now()};
  samples_[side].push_back(sample);
  learn_listeners(side);
  shown_.clear();
  for (const auto& snap : snapshots)
    if (relevant(snap)) shown_.push_back(to_event(snap, side, now));
  changes_[side].next_sample(sample, shown_, list_all_, events_);
}

std::vector<SocketNow> SocketObserver::sockets_now() {
  sample();  // a sample like any other: what it shows is in the trace too
  std::vector<SocketNow> out;
  for (Side side : {Side::client, Side::server})
    for (const auto& snap : snapshots_[side])
      if (snap.state != TcpState::LISTEN) out.push_back({side, snap.local_port, snap.remote_port, snap.state, snap.expires});
  return out;
}

std::vector<SocketTimerNow> SocketObserver::timers_now() {
  sample();  // a sample like any other: what it shows is in the trace too
  std::vector<SocketTimerNow> out;
  for (Side side : {Side::client, Side::server})
    for (const auto& snap : snapshots_[side])
      if (relevant(snap))
        out.push_back({side, snap.cookie_value(), snap.local_port, snap.remote_port, snap.state, snap.timer,
                       snap.state == TcpState::SYN_RECV && !snap.info, snap.expires});
  return out;
}

std::size_t SocketObserver::destroy_timewait(Side side) {
  auto& diag = diag_[side];
  std::size_t destroyed = 0;
  for (const auto& snap : diag.dump(family_, sys::SocketStates::connections))
    if (relevant(snap) && snap.state == TcpState::TIME_WAIT && diag.destroy(snap, family_)) ++destroyed;
  return destroyed;
}

}  // namespace lastack
