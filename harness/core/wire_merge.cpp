// Merging the capture with the interceptor's log: keys, in-order claims, errors.
#include "harness/core/wire_merge.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <string>

#include <fmt/format.h>

#include "harness/core/error.hpp"
#include "harness/core/flow_tracker.hpp"

namespace lastack {
namespace {

constexpr std::size_t tcp_fixed_header = 20;
constexpr std::size_t hex_shown = 32;

// What identifies a copy of a segment on both sides of wire: forwarding changes the IP header
// (TTL, checksum) but never these. The whole TCP header, options included: between the veths the
// checksum holds only the pseudo-header sum, so a retransmission differs from its original only
// in its timestamp option.
std::string key_of(const Segment& s, std::span<const std::uint8_t> bytes) {
  std::string key;
  key += static_cast<char>(s.src.family);
  key.append(reinterpret_cast<const char*>(s.src.bytes.data()), s.src.bytes.size());
  key.append(reinterpret_cast<const char*>(s.dst.bytes.data()), s.dst.bytes.size());
  const std::size_t header = std::max<std::size_t>(tcp_fixed_header, s.tcp_header_len);
  const auto tcp = bytes.subspan(s.ip_header_len, std::min(header, bytes.size() - s.ip_header_len));
  key.append(reinterpret_cast<const char*>(tcp.data()), tcp.size());
  const std::uint32_t tcp_length = s.tcp_header_len + s.payload_len;
  key.append(reinterpret_cast<const char*>(&tcp_length), sizeof tcp_length);
  return key;
}

// tcpdump-like, raw numbers: the error must identify the segment without the tracker.
std::string describe(const Segment& s) {
  std::string out = fmt::format("{}.{} > {}.{} {} seq {}", s.src.str(), s.sport, s.dst.str(), s.dport,
                                s.flags.tcpdump(), s.seq.raw());
  if (s.flags.ack()) out += fmt::format(" ack {}", s.ack.raw());
  if (s.payload_len > 0) out += fmt::format(" len {}", s.payload_len);
  return out;
}

std::string hex_text(std::span<const std::uint8_t> bytes) {
  std::string out;
  for (std::size_t i = 0; i < std::min(bytes.size(), hex_shown); ++i) out += fmt::format("{:02x}", bytes[i]);
  return out;
}

// One captured copy, parsed.
struct Seen {
  const CapturedSegment* capture = nullptr;
  Segment segment;
  std::string key;
};

using Claims = std::map<std::string, std::deque<std::size_t>>;  // key -> unclaimed copies, in capture order

class Merger {
 public:
  Merger(const std::vector<CapturedSegment>& captured, std::optional<Instant> end) : end_(end) {
    for (const CapturedSegment& c : captured) {
      try {
        Seen s{&c, parse_segment(c.bytes), {}};
        s.key = key_of(s.segment, c.bytes);
        auto& side = c.egress ? leaving_ : entering_;
        auto& claims = c.egress ? leaving_claims_ : entering_claims_;
        claims[s.key].push_back(side.size());
        side.push_back(std::move(s));
      } catch (const ParseError& e) {
        error(c.at, fmt::format("the capture saw a segment it cannot parse ({}; {} bytes: {})", e.what(),
                                c.length, hex_text(c.bytes)));
      }
    }
    for (const Seen& s : entering_) events_.push_back(entered(s));
  }

  /// Give each queued segment's verdict to the first unclaimed copy that entered with its key.
  void apply_verdicts(const std::vector<WireEvent>& intercepted) {
    for (const WireEvent& q : intercepted) {
      if (q.injected) continue;
      const auto i = claim(entering_claims_, key_of(q.segment, q.bytes));
      if (!i) {
        error(q.at, fmt::format("queued segment {} was never seen entering the wire", describe(q.segment)));
        continue;
      }
      WireEvent& ev = events_[*i];
      ev.queued = true;
      ev.packet = q.packet;
      ev.fate = q.fate;
      ev.fault = q.fault;
      ev.note = q.note;
      ev.released = q.released;
      ev.info = q.info;  // the live classification, compared with the whole wire's below
    }
  }

  /// Each segment that went on claims the first unclaimed copy that left with its key.
  void find_deliveries() {
    for (WireEvent& ev : events_) {
      if (ev.fate == Fate::dropped) continue;
      if (const auto o = claim(leaving_claims_, key_of(ev.segment, ev.bytes)))
        ev.delivered_at = leaving_[*o].capture->at;
      else if (!after_end(ev.at))
        error(ev.at, fmt::format("segment {} entered the wire and never left it ({})", describe(ev.segment),
                                 ev.queued ? fate_name(ev.fate) : "not queued"));
    }
  }

  /// Injected segments (copies, lab actions) exist only where they left.
  void add_injected(const std::vector<WireEvent>& intercepted) {
    for (const WireEvent& q : intercepted) {
      if (!q.injected) continue;
      const auto o = claim(leaving_claims_, key_of(q.segment, q.bytes));
      if (!o) {
        error(q.at, fmt::format("injected segment {} was never seen leaving the wire", describe(q.segment)));
        continue;
      }
      WireEvent ev = entered(leaving_[*o]);
      ev.delivered_at = ev.at;
      ev.injected = true;
      ev.note = q.note;
      ev.fault = q.fault;
      events_.push_back(std::move(ev));
    }
  }

  /// Every copy that left must have been claimed.
  void check_unclaimed() {
    for (const auto& [key, copies] : leaving_claims_)
      for (std::size_t o : copies)
        error(leaving_[o].capture->at, fmt::format("segment {} left the wire but never entered it",
                                                   describe(leaving_[o].segment)));
  }

  MergedWire finish(const std::vector<IpAddress>& client_addresses) {
    std::erase_if(events_, [this](const WireEvent& ev) { return !ev.injected && after_end(ev.at); });
    std::stable_sort(events_.begin(), events_.end(),
                     [](const WireEvent& a, const WireEvent& b) { return a.at < b.at; });
    reclassify(client_addresses);
    std::stable_sort(errors_.begin(), errors_.end(), [](const LabEvent& a, const LabEvent& b) { return a.at < b.at; });
    return {std::move(events_), std::move(errors_)};
  }

 private:
  static WireEvent entered(const Seen& s) {
    WireEvent ev;
    ev.at = s.capture->at;
    ev.segment = s.segment;
    ev.bytes = s.capture->bytes;
    ev.wire_length = s.capture->length;
    return ev;
  }

  static std::optional<std::size_t> claim(Claims& claims, const std::string& key) {
    const auto it = claims.find(key);
    if (it == claims.end() || it->second.empty()) return std::nullopt;
    const std::size_t i = it->second.front();
    it->second.pop_front();
    if (it->second.empty()) claims.erase(it);
    return i;
  }

  // Roles from every segment in wire order; a queued segment's fault was decided on the roles
  // the interceptor knew then, which the note keeps when they differ.
  void reclassify(const std::vector<IpAddress>& client_addresses) {
    FlowTracker tracker(client_addresses);
    for (WireEvent& ev : events_) {
      const Classified live = ev.info;
      ev.info = tracker.observe(ev.segment);
      if (ev.queued && ev.fault && live.roles != ev.info.roles)
        ev.note += fmt::format(" (decided on roles {}; the whole wire gives {})",
                               live.roles.empty() ? "none" : live.roles.str(),
                               ev.info.roles.empty() ? "none" : ev.info.roles.str());
    }
  }

  bool after_end(Instant at) const { return end_ && at > *end_; }

  void error(Instant at, std::string what) {
    errors_.push_back(LabEvent{at, "harness error: " + std::move(what), LabEventKind::harness_error});
  }

  std::optional<Instant> end_;
  std::vector<Seen> entering_, leaving_;
  Claims entering_claims_, leaving_claims_;
  std::vector<WireEvent> events_;
  std::vector<LabEvent> errors_;
};

}  // namespace

std::vector<LabEvent> reordering_errors(const std::vector<WireEvent>& wire) {
  std::vector<LabEvent> errors;
  // Per direction, the last segment (in ingress order) that no fault held back, and when it left.
  std::map<std::pair<std::size_t, Side>, const WireEvent*> last;
  std::vector<const WireEvent*> order;
  for (const WireEvent& w : wire) order.push_back(&w);
  std::stable_sort(order.begin(), order.end(), [](const WireEvent* a, const WireEvent* b) { return a->at < b->at; });
  for (const WireEvent* w : order) {
    if (w->injected || !w->delivered_at || w->fate == Fate::delayed || w->fate == Fate::held) continue;
    auto& before = last[{w->info.connection, w->info.from}];
    if (before && *w->delivered_at < *before->delivered_at)
      errors.push_back({*w->delivered_at,
                        fmt::format("harness error: the harness reordered the wire: {} seq {} from {} entered after "
                                    "seq {} but left {} µs before it (no fault asked for that)",
                                    w->segment.flags.tcpdump(), w->info.rel_seq, side_name(w->info.from),
                                    before->info.rel_seq,
                                    std::chrono::duration_cast<std::chrono::microseconds>(*before->delivered_at -
                                                                                          *w->delivered_at)
                                        .count()),
                        LabEventKind::harness_error});
    if (!before || *w->delivered_at > *before->delivered_at) before = w;
  }
  return errors;
}

MergedWire merge_wire(const std::vector<CapturedSegment>& captured, const std::vector<WireEvent>& intercepted,
                      const std::vector<IpAddress>& client_addresses, std::optional<Instant> end) {
  Merger m(captured, end);
  m.apply_verdicts(intercepted);
  m.find_deliveries();
  m.add_injected(intercepted);
  m.check_unclaimed();
  MergedWire merged = m.finish(client_addresses);
  for (LabEvent& e : reordering_errors(merged.events)) merged.errors.push_back(std::move(e));
  return merged;
}

}  // namespace lastack
