// The link's schedule: rate queue, latency and jitter, loss and duplication, all on the run's seed.
#include "harness/core/decide/link_model.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "harness/core/decide/random_draw.hpp"

namespace lastack {

namespace {
// The link's streams sit far above any fault's index (stream_seed's `fault`), so a fault and the
// link never share a stream.
constexpr std::size_t kLinkStreams = std::size_t{1} << 32;
constexpr std::uint64_t golden_gamma = 0x9e3779b97f4a7c15ULL;

std::uint64_t chained(std::uint64_t h, std::uint64_t x) { return splitmix64_mix(h ^ (x + golden_gamma)); }
}  // namespace

double link_draw(std::uint64_t seed, LinkChance chance, const LinkSegment& seg, std::uint32_t occurrence) {
  const std::size_t stream = kLinkStreams + 2 * static_cast<std::size_t>(chance) + (seg.from == Side::server ? 1 : 0);
  std::uint64_t h = stream_seed(seed, stream, seg.connection.value);
  for (const std::uint64_t x : {std::uint64_t{seg.rel_seq}, std::uint64_t{seg.rel_ack}, std::uint64_t{seg.payload},
                                std::uint64_t{seg.flags}, std::uint64_t{occurrence}})
    h = chained(h, x);
  return unit_interval(h);
}

LinkSegment link_segment(const Segment& seg, const Classified& info, std::uint32_t length) {
  return {info.from, info.connection, info.rel_seq, info.rel_ack, seg.payload_len, seg.flags.bits, length};
}

std::string link_note(const LinkPassage& p, const LinkDirection& dir) {
  switch (p.drop) {
    case LinkDrop::loss: return fmt::format("lost on the link (loss {}: drew {:.4f})", dir.loss, p.loss_draw.value_or(0));
    case LinkDrop::queue_full:
      return dir.queue_segments ? fmt::format("dropped by the link: its queue ({} segments) was full", *dir.queue_segments)
                                : fmt::format("dropped by the link: its queue ({} bytes) was full", dir.queue_bytes.value_or(0));
    case LinkDrop::held_limit: return "dropped by the link: the interceptor held as many segments as it may";
    case LinkDrop::none: break;
  }
  if (p.duplicated) return fmt::format("duplicated by the link (duplicate {}: drew {:.4f})", dir.duplicate, p.duplicate_draw.value_or(0));
  return {};
}

Duration transmission_time(std::uint64_t bytes, std::uint64_t rate) {
  // bytes * 8e9 fits 64 bits for any IP packet (<= 65535 bytes: 5.3e14).
  return Duration(static_cast<std::int64_t>((bytes * 8'000'000'000ULL + rate - 1) / rate));
}

bool link_draws_at_random(const std::optional<Link>& link) {
  if (!link) return false;
  for (const Side s : {Side::client, Side::server}) {
    const LinkDirection& d = link->from[s];
    if (d.loss > 0 || d.duplicate > 0 || d.jitter.count() > 0) return true;
  }
  return false;
}

OwnCrossing own_crossing(OwnSegment kind) {
  switch (kind) {
    case OwnSegment::fault_copy:
    case OwnSegment::link_copy: return OwnCrossing::behind_original;
    case OwnSegment::held_copy:
    case OwnSegment::reset:
    case OwnSegment::lab_rst: return OwnCrossing::carried;
  }
  return OwnCrossing::carried;
}

LinkModel::LinkModel(Link link, std::uint64_t seed, std::size_t max_held)
    : link_(std::move(link)), seed_(seed), max_held_(max_held) {}

LinkDrop LinkModel::room(Direction& d, const LinkDirection& s, const LinkSegment& seg, Instant now) const {
  if (d.held.size() >= max_held_) return LinkDrop::held_limit;
  if (!s.rate) return LinkDrop::none;
  while (!d.sending.empty() && d.sending.front().first <= now) d.sending.pop_front();
  if (s.queue_segments && d.sending.size() + 1 > *s.queue_segments) return LinkDrop::queue_full;
  if (s.queue_bytes) {
    std::uint64_t backlog = 0;
    for (const auto& q : d.sending) backlog += q.second;
    if (backlog + seg.length > *s.queue_bytes) return LinkDrop::queue_full;
  }
  return LinkDrop::none;
}

LinkPassage LinkModel::admit(const LinkSegment& seg, Instant now) {
  const LinkDirection& s = link_.from[seg.from];
  Direction& d = dir_[seg.from];
  while (!d.held.empty() && *d.held.begin() <= now) d.held.erase(d.held.begin());
  const std::uint32_t occurrence = d.seen[{seg.connection, seg.rel_seq, seg.rel_ack, seg.payload, seg.flags}]++;
  LinkPassage p;
  p.reorder = s.reorder;
  if (s.loss > 0) {
    p.loss_draw = link_draw(seed_, LinkChance::loss, seg, occurrence);
    if (*p.loss_draw < s.loss) p.drop = LinkDrop::loss;
  }
  if (p.drop == LinkDrop::none) p.drop = room(d, s, seg, now);
  if (p.drop != LinkDrop::none) {
    p.due = now;
    return p;
  }
  Instant sent = now;  // when its last bit leaves the rate's transmitter
  if (s.rate) {
    sent = std::max(now, d.busy_until) + transmission_time(seg.length, *s.rate);
    d.busy_until = sent;
    d.sending.emplace_back(sent, seg.length);
  }
  p.queued = sent - now;
  p.delay = s.latency;
  if (s.jitter.count() > 0) {
    p.jitter_draw = link_draw(seed_, LinkChance::jitter, seg, occurrence);
    // Uniform in latency ± jitter, never below no delay at all.
    const auto offset = std::chrono::duration_cast<Duration>((2 * *p.jitter_draw - 1) * std::chrono::duration<double, std::nano>(s.jitter));
    p.delay = std::max(Duration::zero(), Duration(s.latency) + offset);
  }
  p.due = sent + p.delay;
  if (!s.reorder && d.last_due && p.due < *d.last_due) p.due = *d.last_due;  // segments keep their order
  if (!d.last_due || p.due > *d.last_due) d.last_due = p.due;
  if (s.duplicate > 0) {
    p.duplicate_draw = link_draw(seed_, LinkChance::duplicate, seg, occurrence);
    p.duplicated = *p.duplicate_draw < s.duplicate;
  }
  if (p.due > now) d.held.insert(p.due);
  return p;
}

LinkPassage LinkModel::carry(Side from, std::uint32_t length, Instant now) {
  const LinkDirection& s = link_.from[from];
  Direction& d = dir_[from];
  LinkPassage p;
  p.reorder = s.reorder;
  Instant sent = now;  // it takes the transmitter's time (the rate's queue never refuses it)
  if (s.rate) {
    while (!d.sending.empty() && d.sending.front().first <= now) d.sending.pop_front();
    sent = std::max(now, d.busy_until) + transmission_time(length, *s.rate);
    d.busy_until = sent;
    d.sending.emplace_back(sent, length);
  }
  p.queued = sent - now;
  p.delay = s.latency;
  p.due = sent + p.delay;
  if (!s.reorder && d.last_due && p.due < *d.last_due) p.due = *d.last_due;
  if (!d.last_due || p.due > *d.last_due) d.last_due = p.due;
  return p;  // not in `held`: lastack holds its own bytes, not a queued packet of the kernel's
}

}  // namespace lastack
