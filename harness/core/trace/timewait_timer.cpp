#include "harness/core/trace/timewait_timer.hpp"

#include <algorithm>

#include "harness/core/trace/socket_samples.hpp"

namespace lastack {

ExpiryBounds expiry_bounds(const SocketEvent& e, const SocketSample& sample, std::chrono::microseconds jiffy) {
  return {sample.start + e.expires - jiffy, sample.end + e.expires};
}

bool expiry_moved_later(const ExpiryBounds& before, const ExpiryBounds& after) {
  return after.earliest > before.latest;
}

SocketSample sample_at(const Trace& trace, Side side, Instant at) {
  const auto& samples = samples_of(trace, side);
  const auto it = std::lower_bound(samples.begin(), samples.end(), at,
                                   [](const SocketSample& s, Instant t) { return s.start < t; });
  if (it != samples.end() && it->start == at) return *it;
  return {at, at + Duration(trace.sample_interval)};
}

bool timewait_restarted(const Trace& trace, const SocketEvent& before, const SocketEvent& after) {
  return expiry_moved_later(expiry_bounds(before, sample_at(trace, before.side, before.at), trace.jiffy),
                            expiry_bounds(after, sample_at(trace, after.side, after.at), trace.jiffy));
}

namespace {

// When the socket entered TIME_WAIT: exact from a traced hand-over, else between the evidence
// before (its FIN_WAIT_2, or the side's sample that did not show it yet) and its first sample.
struct Entry {
  Instant earliest{}, latest{};
  bool traced = false;
};

Entry entry_of(const Trace& trace, const StateHistory& h, const SocketEvent& first) {
  const auto tw = std::find_if(h.steps.begin(), h.steps.end(), [](const StateStep& s) {
    return s.state == TcpState::TIME_WAIT && s.source != StateSource::inferred;
  });
  if (tw != h.steps.end() && tw->source == StateSource::handover) return {tw->at, tw->at, true};
  const InstantBounds change = sampled_change(trace, h.side, first.at);
  Instant earliest = change.earliest;
  if (tw != h.steps.begin() && tw != h.steps.end()) earliest = std::max(earliest, std::prev(tw)->at);
  return {earliest, sample_at(trace, h.side, first.at).end, false};
}

TimewaitTimer timer_of(const Trace& trace, const StateHistory& h, std::vector<const SocketEvent*> samples) {
  TimewaitTimer t;
  t.socket = &h;
  t.samples = std::move(samples);
  const Entry entry = entry_of(trace, h, *t.samples.front());
  if (entry.traced) t.entered = entry.earliest;
  const auto bounds = [&](const SocketEvent* e) { return expiry_bounds(*e, sample_at(trace, h.side, e->at), trace.jiffy); };
  // Armed on entering: jiffies then plus 60 s.
  const ExpiryBounds armed{entry.earliest + timewait_length - trace.jiffy, entry.latest + timewait_length};
  const ExpiryBounds first = bounds(t.samples.front());
  const SocketSample first_sample = sample_at(trace, h.side, t.samples.front()->at);
  if (expiry_moved_later(armed, first)) {
    t.restarts.push_back({entry.earliest, first_sample.end, first.earliest - armed.latest});
  } else {
    // A restart this soon after entering moves the expiry less than the samples can resolve.
    t.blind_until = armed.latest - timewait_length + trace.jiffy + (first.latest - first.earliest);
    t.blind = *t.blind_until - entry.earliest;
  }
  for (std::size_t i = 1; i < t.samples.size(); ++i) {
    const ExpiryBounds before = bounds(t.samples[i - 1]), after = bounds(t.samples[i]);
    if (expiry_moved_later(before, after))
      t.restarts.push_back({t.samples[i - 1]->at, sample_at(trace, h.side, t.samples[i]->at).end,
                            after.earliest - before.latest});
    else if (after.latest < before.earliest && t.contradiction.empty())
      t.contradiction = "its TIME_WAIT expiry moved earlier between two samples, which no kernel path does";
  }
  return t;
}

}  // namespace

std::vector<TimewaitTimer> timewait_timers(const Trace& trace, const std::vector<StateHistory>& histories) {
  std::vector<TimewaitTimer> out;
  for (const StateHistory& h : histories) {
    if (!h.reached(TcpState::TIME_WAIT)) continue;
    std::vector<const SocketEvent*> samples;
    for (const SocketEvent* e : samples_of_socket(trace, h))
      if (e->state == TcpState::TIME_WAIT && e->timer == SocketTimer::time_wait) samples.push_back(e);
    if (!samples.empty()) out.push_back(timer_of(trace, h, std::move(samples)));
  }
  return out;
}

}  // namespace lastack
