#include "harness/core/report/ladder_model.hpp"

#include <algorithm>
#include <cmath>

#include "harness/core/trace/timewait_timer.hpp"
#include "harness/core/trace/trace_query.hpp"

namespace lastack {

TimeScale::TimeScale(std::vector<Instant> keys, double top, double min_gap, double log_px) {
  std::sort(keys.begin(), keys.end());
  for (Instant k : keys) {
    if (!keys_.empty() && k == keys_.back()) continue;  // segments a nanosecond apart still get a row each
    if (keys_.empty()) {
      ys_.push_back(top);
    } else {
      const double tenths_of_ms = std::chrono::duration<double, std::micro>(k - keys_.back()).count() / 100.0;
      // Even a 1 µs gap gets min_gap: the rows are for reading, the axis says the time.
      ys_.push_back(ys_.back() + min_gap + log_px * std::log10(1.0 + tenths_of_ms));
    }
    keys_.push_back(k);
  }
  if (keys_.empty()) {
    keys_.push_back(Instant{});
    ys_.push_back(top);
  }
}

double TimeScale::y(Instant t) const {
  if (t <= keys_.front()) return ys_.front();
  if (t >= keys_.back()) return ys_.back();
  const auto hi = std::upper_bound(keys_.begin(), keys_.end(), t) - keys_.begin();
  const auto lo = hi - 1;
  const double f = std::chrono::duration<double>(t - keys_[lo]).count() /
                   std::chrono::duration<double>(keys_[hi] - keys_[lo]).count();
  return ys_[lo] + f * (ys_[hi] - ys_[lo]);
}

double TimeScale::bottom() const { return ys_.back(); }

std::pair<Instant, Instant> trace_span(const Trace& trace) {
  if (trace.events.empty()) return {Instant{}, Instant{}};
  Instant first = event_time(trace.events.front()), last = first;
  for (const TraceEvent& e : trace.events) {
    first = std::min(first, event_time(e));
    last = std::max(last, event_time(e));
  }
  return {first, last};
}

namespace {
struct StatePoint {
  Instant at{};
  TcpState state = TcpState::CLOSE;
  bool traced = false;
  const SocketEvent* sample = nullptr;
};

// One side's state points on one connection, in time order, repeats collapsed.
std::vector<StatePoint> state_points(const Trace& trace, Side side, ConnectionIndex connection) {
  std::vector<StatePoint> points;
  for (const TraceEvent& ev : trace.events)
    if (const auto* c = std::get_if<StateChange>(&ev);
        c && c->side == side && c->connection.value_or(ConnectionIndex{}) == connection && c->to != TcpState::LISTEN &&
        c->from != TcpState::LISTEN)
      points.push_back({c->at, c->to, true, nullptr});
  const bool traced = !points.empty();
  for (const TraceEvent& ev : trace.events) {
    const auto* s = std::get_if<SocketEvent>(&ev);
    if (!s || s->side != side || s->state == TcpState::LISTEN || socket_connection(trace, *s).value_or(ConnectionIndex{}) != connection)
      continue;
    // Traced: the samples only add what no tracepoint reports (a timewait socket and its end).
    if (traced && s->state != TcpState::TIME_WAIT && s->state != TcpState::CLOSE) continue;
    points.push_back({s->at, s->state, false, s});
  }
  std::stable_sort(points.begin(), points.end(), [](const StatePoint& a, const StatePoint& b) { return a.at < b.at; });
  std::vector<StatePoint> collapsed;
  for (const StatePoint& p : points) {
    if (!collapsed.empty() && collapsed.back().state == p.state) continue;
    // A traced run's CLOSE sample only ends a TIME_WAIT: the tracepoint already said the rest.
    if (traced && !p.traced && p.state == TcpState::CLOSE &&
        (collapsed.empty() || collapsed.back().state != TcpState::TIME_WAIT))
      continue;
    collapsed.push_back(p);
  }
  return collapsed;
}

// TIME_WAIT's timer: the first sample's time left, and the samples where it had restarted.
void add_timewait_timer(const Trace& trace, StateBand& band) {
  const SocketEvent* previous = nullptr;
  for (const TraceEvent& ev : trace.events) {
    const auto* s = std::get_if<SocketEvent>(&ev);
    if (!s || s->side != band.side || s->state != TcpState::TIME_WAIT ||
        socket_connection(trace, *s).value_or(ConnectionIndex{}) != band.connection)
      continue;
    if (s->at < band.start || s->at > band.end) continue;
    if (!band.timewait_timer && s->timer == SocketTimer::time_wait) band.timewait_timer = s->expires;
    if (previous && timewait_restarted(trace, *previous, *s)) band.timer_restarts.push_back(s->at);
    previous = s;
  }
}
}  // namespace

std::vector<StateBand> state_bands(const Trace& trace) {
  const Instant end = trace_span(trace).second;
  std::size_t connections = 1;
  for (const WireEvent* w : wire_events(trace)) connections = std::max(connections, w->info.connection.value + 1);
  std::vector<StateBand> bands;
  for (ConnectionIndex conn; conn.value < connections; ++conn.value)
    for (Side side : {Side::client, Side::server}) {
      const auto points = state_points(trace, side, conn);
      for (std::size_t i = 0; i < points.size(); ++i) {
        if (points[i].state == TcpState::CLOSE) continue;  // gone: no band
        StateBand band{side, points[i].state, points[i].at, i + 1 < points.size() ? points[i + 1].at : end,
                       points[i].traced, std::nullopt, {}, conn};
        if (band.state == TcpState::TIME_WAIT) add_timewait_timer(trace, band);
        bands.push_back(std::move(band));
      }
    }
  return bands;
}

WireIndex index_wire(const Trace& trace) {
  WireIndex index;
  index.events = wire_events(trace);
  index.original.resize(index.events.size());
  for (std::size_t i = 0; i < index.events.size(); ++i) {
    const WireEvent& later = *index.events[i];
    if (!kernel_retransmission(later)) continue;
    for (std::size_t j = 0; j < i; ++j) {
      const WireEvent& earlier = *index.events[j];
      if (earlier.info.connection == later.info.connection && earlier.info.from == later.info.from &&
          earlier.segment.seq_space() > 0 && !earlier.info.roles.has(Role::retransmission) &&
          resends(later, earlier)) {
        index.original[i] = j;
        break;
      }
    }
  }
  return index;
}

std::optional<std::chrono::microseconds> retransmission_rto(const Trace& trace, const WireEvent& original,
                                                            const WireEvent& retransmission) {
  for (const TraceEvent& ev : trace.events) {
    const auto* k = std::get_if<KernelRetransmit>(&ev);
    if (!k || k->side != retransmission.info.from || k->seq != retransmission.segment.seq) continue;
    const auto distance = k->at > retransmission.at ? k->at - retransmission.at : retransmission.at - k->at;
    if (distance <= std::chrono::milliseconds(5) && k->rto.count() > 0) return k->rto;
  }
  return rto_for(trace, original, retransmission.at);
}

}  // namespace lastack
