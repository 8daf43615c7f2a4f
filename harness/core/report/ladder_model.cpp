#include "harness/core/report/ladder_model.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "harness/core/base/duration_text.hpp"

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

std::string ms_text_at(Instant t) {
  return fmt::format("{:.1f} ms", std::chrono::duration<double, std::milli>(t.time_since_epoch()).count());
}

// A timewait socket's timer: its first sample's time left within the band, and the samples where
// its TIME_WAIT timer had restarted.
void add_timer(const Trace& trace, const StateHistory& h, StateBand& band) {
  const SocketEvent* previous = nullptr;
  for (const SocketEvent* s : samples_of_socket(trace, h)) {
    if (s->at < band.evidence_at || s->at > band.end || s->state != band.state) continue;
    if (!band.timer && s->timer == SocketTimer::time_wait) band.timer = s->expires;
    if (previous && s->state == TcpState::TIME_WAIT && timewait_restarted(trace, *previous, *s))
      band.timer_restarts.push_back(s->at);
    previous = s;
  }
}

}  // namespace

std::string StateBand::label() const {
  std::string out = state_label(state, form);
  if (timer) out += " · timer " + seconds_text(*timer);
  return out;
}

std::string StateBand::source_text() const {
  std::string out(source_words(source));
  if (from_wire)
    out += fmt::format("; from the {}'s arrival on the wire at {}, the kernel's word from {}",
                       state == TcpState::SYN_RECV ? "SYN" : "FIN", ms_text_at(start), ms_text_at(evidence_at));
  return out;
}

std::vector<StateBand> state_bands(const Trace& trace, bool with_close) {
  const Instant end = trace_span(trace).second;
  std::vector<StateBand> bands;
  for (const StateHistory& h : on_wire_histories(trace)) {
    if (h.listener) continue;
    const auto shown = shown_steps(h);
    for (std::size_t i = 0; i < shown.size(); ++i) {
      const ShownStep& s = shown[i];
      if (s.state == TcpState::LISTEN || (s.state == TcpState::CLOSE && !with_close)) continue;  // gone: no band
      StateBand band{h.side, s.state, s.form, s.source, s.start, i + 1 < shown.size() ? shown[i + 1].start : end,
                     s.from_wire, s.evidence_at, std::nullopt, {}, h.connection.value_or(ConnectionIndex{})};
      band.end = s.state == TcpState::CLOSE ? band.start : std::max(band.end, band.start);
      if (s.form == SocketForm::timewait) add_timer(trace, h, band);
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
