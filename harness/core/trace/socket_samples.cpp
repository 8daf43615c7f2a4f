#include "harness/core/trace/socket_samples.hpp"

#include <algorithm>

#include "harness/core/trace/trace_query.hpp"

namespace lastack {

namespace {

// The first sample of `samples` that began after `t`.
std::vector<SocketSample>::const_iterator first_after(const std::vector<SocketSample>& samples, Instant t) {
  return std::upper_bound(samples.begin(), samples.end(), t,
                          [](Instant at, const SocketSample& s) { return at < s.start; });
}

// The latest time a segment of `h`'s connection reached the wire, up to `end`; nullopt: none did.
std::optional<Instant> last_activity(const Trace& trace, const StateHistory& h, Instant end) {
  std::optional<Instant> last;
  for (const WireEvent* w : wire_events(trace)) {
    if (h.connection && w->info.connection != *h.connection) continue;
    const Instant at = arrival_time(*w);
    if (at <= end && (!last || at > *last)) last = at;
  }
  return last;
}

}  // namespace

const std::vector<SocketSample>& samples_of(const Trace& trace, Side side) {
  return trace.samples[side];
}

Duration nominal_blind_spot(const Trace& trace) {
  return 2 * Duration(trace.sample_interval) + Duration(trace.host_latency);
}

InstantBounds sampled_change(const Trace& trace, Side side, Instant seen) {
  const auto& samples = samples_of(trace, side);
  const auto after = first_after(samples, seen);  // the sample that began at `seen` is just before
  if (after - samples.begin() < 2) return {seen - nominal_blind_spot(trace), seen};
  const SocketSample& showing = *(after - 1);
  const SocketSample& before = *(after - 2);
  return {before.start, std::max(seen, showing.end)};
}

Duration longest_unseen(const Trace& trace, std::optional<Side> side, Instant until) {
  Duration longest{0};
  bool recorded = false;
  for (Side s : {Side::client, Side::server}) {
    if (side && s != *side) continue;
    const auto& samples = samples_of(trace, s);
    if (samples.empty()) return nominal_blind_spot(trace);
    recorded = true;
    for (std::size_t i = 0; i + 1 < samples.size() && samples[i].start < until; ++i)
      longest = std::max(longest, samples[i + 1].end - samples[i].start);
    if (samples.back().start < until) longest = std::max(longest, until - samples.back().start);
  }
  return recorded ? longest : nominal_blind_spot(trace);
}

bool last_state_known(const Trace& trace, const StateHistory& h, Instant end) {
  if (h.steps.empty()) return false;
  const StateStep& last = h.steps.back();
  if (last.state == TcpState::CLOSE || last.source == StateSource::traced) return true;  // gone, or every change traced
  if (last.source == StateSource::inferred) return false;
  const auto& samples = samples_of(trace, h.side);
  if (trace.final_sample_lists_all) {
    // The side's last sample lists every socket it shows: this one, still in that state.
    if (samples.empty() || samples.back().end > end) return false;
    const Instant final = samples.back().start;
    const auto mine = samples_of_socket(trace, h);
    return std::any_of(mine.begin(), mine.end(), [&](const SocketEvent* e) { return e->at == final && e->state == last.state; });
  }
  // Older traces: a sample taken once the connection's last segment had time to arrive.
  const std::optional<Instant> activity = last_activity(trace, h, end);
  if (samples.empty()) return !activity || *activity <= end - 2 * Duration(trace.sample_interval);
  if (!activity) return true;
  const Instant wanted = *activity + Duration(trace.sample_interval);
  // Samples end in order: the first to begin late enough is the first to end.
  const auto it = first_after(samples, wanted - Duration(1));
  return it != samples.end() && it->end <= end;
}

}  // namespace lastack
