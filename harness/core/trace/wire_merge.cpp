// Merging the capture with the interceptor's log: keys, in-order claims, errors.
#include "harness/core/trace/wire_merge.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "lastack/error.hpp"
#include "lastack/flow_tracker.hpp"
#include "harness/core/base/stable_order.hpp"

namespace lastack {
namespace {

constexpr std::size_t tcp_fixed_header = 20;
constexpr std::size_t hex_shown = 32;

// What identifies a copy of a segment on both sides of wire: forwarding changes the IP header
// (TTL, checksum) but never these. The whole TCP header, options included: between the veths the
// checksum holds only the pseudo-header sum, so a retransmission differs from its original only
// in its timestamp option. Kept inline, with no allocation: a 300 MB run makes a key for each of
// its 420,000 frames and 210,000 queued segments.
struct SegmentKey {
  std::array<std::uint8_t, 1 + 16 + 16 + 60 + 4> bytes{};  // family, addresses, TCP header, TCP length
  std::size_t size = 0;

  void append(const void* data, std::size_t n) {
    std::memcpy(bytes.data() + size, data, n);
    size += n;
  }
  std::string_view view() const { return {reinterpret_cast<const char*>(bytes.data()), size}; }
  bool operator==(const SegmentKey& o) const { return view() == o.view(); }
};

struct SegmentKeyHash {
  std::size_t operator()(const SegmentKey& k) const { return std::hash<std::string_view>{}(k.view()); }
};

SegmentKey key_of(const Segment& s, std::span<const std::uint8_t> bytes) {
  SegmentKey key;
  const auto family = static_cast<std::uint8_t>(s.src.family);
  key.append(&family, 1);
  key.append(s.src.bytes.data(), s.src.bytes.size());
  key.append(s.dst.bytes.data(), s.dst.bytes.size());
  const std::size_t header = std::max<std::size_t>(tcp_fixed_header, s.tcp_header_len);
  const auto tcp = bytes.subspan(s.ip_header_len, std::min(header, bytes.size() - s.ip_header_len));
  key.append(tcp.data(), std::min<std::size_t>(tcp.size(), 60));  // data offset * 4 is at most 60
  const std::uint32_t tcp_length = s.tcp_header_len + s.payload_len;
  key.append(&tcp_length, sizeof tcp_length);
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
};

// The copies the capture saw in one direction (entering wire, or leaving it), in capture order,
// and which of them are claimed. A claim takes the first unclaimed copy with its key. Claims
// come nearly in capture order (the queue's order, the wire's order), so the first unclaimed
// copy of all is tried first; a hash index of every key is built only when that fails.
class CopyLog {
 public:
  void reserve(std::size_t n) {
    seen_.reserve(n);
    keys_.reserve(n);
  }
  void add(Seen s, SegmentKey key) {
    seen_.push_back(std::move(s));
    keys_.push_back(std::move(key));
    claimed_.push_back(false);
  }
  std::size_t size() const { return seen_.size(); }
  const Seen& operator[](std::size_t i) const { return seen_[i]; }
  bool claimed(std::size_t i) const { return claimed_[i]; }
  const SegmentKey& key(std::size_t i) const { return keys_[i]; }

  /// The first unclaimed copy with `key`, now claimed; none when every copy with it is.
  std::optional<std::size_t> claim(const SegmentKey& key) {
    while (cursor_ < size() && claimed_[cursor_]) ++cursor_;
    if (cursor_ < size() && keys_[cursor_] == key) return take(cursor_);  // nothing before it is unclaimed
    if (!indexed_) build_index();
    const auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    Positions& p = it->second;
    while (p.scan < p.count() && claimed_[p.at(p.scan)]) ++p.scan;
    if (p.scan == p.count()) return std::nullopt;
    return take(p.at(p.scan++));
  }

 private:
  // Where one key's copies are, in capture order; nearly every key has one.
  struct Positions {
    std::size_t first = 0;
    std::vector<std::size_t> more;
    std::size_t scan = 0;  // copies before it are claimed
    std::size_t count() const { return 1 + more.size(); }
    std::size_t at(std::size_t i) const { return i == 0 ? first : more[i - 1]; }
  };

  std::size_t take(std::size_t i) {
    claimed_[i] = true;
    return i;
  }

  void build_index() {
    indexed_ = true;
    index_.reserve(size());
    for (std::size_t i = 0; i < size(); ++i) {
      const auto [it, fresh] = index_.try_emplace(keys_[i], Positions{i, {}, 0});
      if (!fresh) it->second.more.push_back(i);
    }
  }

  std::vector<Seen> seen_;
  std::vector<SegmentKey> keys_;
  std::vector<bool> claimed_;
  std::size_t cursor_ = 0;  // no copy before it is unclaimed
  bool indexed_ = false;
  std::unordered_map<SegmentKey, Positions, SegmentKeyHash> index_;
};

class Merger {
 public:
  Merger(const std::vector<CapturedSegment>& captured, std::optional<Instant> end) : end_(end) {
    entering_.reserve(captured.size() / 2 + 1);  // about half the frames enter, half leave
    leaving_.reserve(captured.size() / 2 + 1);
    for (const CapturedSegment& c : captured) {
      try {
        Seen s{&c, parse_segment(c.bytes)};
        SegmentKey key = key_of(s.segment, c.bytes);
        (c.egress ? leaving_ : entering_).add(std::move(s), std::move(key));
      } catch (const ParseError& e) {
        error(c.at, fmt::format("the capture saw a segment it cannot parse ({}; {} bytes: {})", e.what(),
                                c.length, hex_text(c.bytes)));
      }
    }
    events_.reserve(entering_.size());
    for (std::size_t i = 0; i < entering_.size(); ++i) events_.push_back(entered(entering_[i]));
  }

  /// Give each queued segment's verdict to the first unclaimed copy that entered with its key.
  void apply_verdicts(const std::vector<WireEvent>& intercepted) {
    for (const WireEvent& q : intercepted) {
      if (q.injected) continue;
      const auto i = entering_.claim(key_of(q.segment, q.bytes));
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
      ev.draws = q.draws;
      ev.link = q.link;
      ev.released = q.released;
      ev.info = q.info;  // the live classification, compared with the whole wire's below
    }
  }

  /// Each segment that went on claims the first unclaimed copy that left with its key; without
  /// an egress tap (loopback), it left when the interceptor let it go, or at once if not held.
  void find_deliveries(bool egress_tapped) {
    for (std::size_t i = 0; i < events_.size(); ++i) {  // events_[i] is entering_[i] until finish()
      WireEvent& ev = events_[i];
      if (ev.fate == Fate::dropped) continue;
      if (!egress_tapped) {
        ev.delivered_at = ev.released.value_or(ev.at);
        continue;
      }
      if (const auto o = leaving_.claim(entering_.key(i)))
        ev.delivered_at = leaving_[*o].capture->at;
      else if (!after_end(ev.at))
        error(ev.at, fmt::format("segment {} entered the wire and never left it ({})", describe(ev.segment),
                                 ev.queued ? fate_name(ev.fate) : "not queued"));
    }
  }

  /// Injected segments (copies, lab actions) exist only where they left; without an egress tap
  /// (loopback: lastack sends into lo, and INPUT's queue lets its own segments by), where they
  /// entered.
  void add_injected(const std::vector<WireEvent>& intercepted, bool egress_tapped) {
    for (const WireEvent& q : intercepted) {
      if (!q.injected) continue;
      const auto copy = (egress_tapped ? leaving_ : entering_).claim(key_of(q.segment, q.bytes));
      if (!copy) {
        error(q.at, fmt::format("injected segment {} was never seen {}", describe(q.segment),
                                egress_tapped ? "leaving the wire" : "on the wire"));
        continue;
      }
      if (egress_tapped) events_.push_back(entered(leaving_[*copy]));
      WireEvent& ev = egress_tapped ? events_.back() : events_[*copy];  // events_[i] is entering_[i]
      ev.delivered_at = ev.at;
      ev.injected = true;
      ev.note = q.note;
      ev.fault = q.fault;
      ev.link = q.link;
      ev.released = q.released;
    }
  }

  /// Every copy that left must have been claimed.
  void check_unclaimed() {
    for (std::size_t o = 0; o < leaving_.size(); ++o)
      if (!leaving_.claimed(o))
        error(leaving_[o].capture->at,
              fmt::format("segment {} left the wire but never entered it", describe(leaving_[o].segment)));
  }

  MergedWire finish(const std::vector<IpAddress>& client_addresses) {
    PerSide<std::uint64_t> after;
    for (const WireEvent& ev : events_)
      if (!ev.injected && after_end(ev.at)) ++after[from_client(ev, client_addresses) ? Side::client : Side::server];
    std::erase_if(events_, [this](const WireEvent& ev) { return !ev.injected && after_end(ev.at); });
    stable_sort_by_key(events_, [](const WireEvent& ev) { return ev.at; });
    reclassify(client_addresses);
    std::stable_sort(errors_.begin(), errors_.end(), [](const LabEvent& a, const LabEvent& b) { return a.at < b.at; });
    return {std::move(events_), std::move(errors_), after};
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

  // Roles from every segment in wire order; a queued segment's fault was decided on the roles
  // the interceptor knew then, which the note keeps when they differ.
  void reclassify(const std::vector<IpAddress>& client_addresses) {
    FlowTracker tracker(client_addresses);
    for (WireEvent& ev : events_) {
      const Classified live = ev.info;
      ev.info = tracker.observe(ev.segment, ev.injected);
      if (ev.queued && ev.fault && live.roles != ev.info.roles)
        ev.note += fmt::format(" (decided on roles {}; the whole wire gives {})",
                               live.roles.empty() ? "none" : live.roles.str(),
                               ev.info.roles.empty() ? "none" : ev.info.roles.str());
    }
  }

  bool after_end(Instant at) const { return end_ && at > *end_; }

  static bool from_client(const WireEvent& ev, const std::vector<IpAddress>& client_addresses) {
    return std::find(client_addresses.begin(), client_addresses.end(), ev.segment.src) != client_addresses.end();
  }

  void error(Instant at, std::string what) {
    errors_.push_back(LabEvent{at, "harness error: " + std::move(what), LabEventKind::harness_error, std::nullopt, 0,
                               HarnessCause::wire_disagrees});
  }

  std::optional<Instant> end_;
  CopyLog entering_, leaving_;
  std::vector<WireEvent> events_;
  std::vector<LabEvent> errors_;
};

}  // namespace

std::vector<LabEvent> reordering_errors(const std::vector<WireEvent>& wire) {
  std::vector<LabEvent> errors;
  // Per direction, the last segment (in ingress order) that no fault held back, and when it left.
  std::map<std::pair<ConnectionIndex, Side>, const WireEvent*> last;
  std::vector<const WireEvent*> order;
  for (const WireEvent& w : wire) order.push_back(&w);
  std::stable_sort(order.begin(), order.end(), [](const WireEvent* a, const WireEvent* b) { return a->at < b->at; });
  for (const WireEvent* w : order) {
    if (w->injected || !w->delivered_at || w->fate == Fate::delayed || w->fate == Fate::held) continue;
    if (w->link && w->link->reorder) continue;  // the policy's link may reorder this direction
    auto& before = last[{w->info.connection, w->info.from}];
    // Two segments can reach the queue in another order than the capture saw them enter: each
    // CPU's softirq carries what its veth handed it. The interceptor answers for the queue's order.
    const bool queue_order = w->queued && before && before->queued && w->packet < before->packet;
    if (before && *w->delivered_at < *before->delivered_at && !queue_order)
      errors.push_back({*w->delivered_at,
                        fmt::format("harness error: the harness reordered the wire: {} seq {} from {} entered after "
                                    "seq {} but left {} µs before it (no fault asked for that)",
                                    w->segment.flags.tcpdump(), w->info.rel_seq, side_name(w->info.from),
                                    before->info.rel_seq,
                                    std::chrono::duration_cast<std::chrono::microseconds>(*before->delivered_at -
                                                                                          *w->delivered_at)
                                        .count()),
                        LabEventKind::harness_error, std::nullopt, 0, HarnessCause::wire_reordered});
    if (!before || *w->delivered_at > *before->delivered_at) before = w;
  }
  return errors;
}

MergedWire merge_wire(const std::vector<CapturedSegment>& captured, const std::vector<WireEvent>& intercepted,
                      const std::vector<IpAddress>& client_addresses, std::optional<Instant> end,
                      bool egress_tapped) {
  Merger m(captured, end);
  m.apply_verdicts(intercepted);
  m.find_deliveries(egress_tapped);
  m.add_injected(intercepted, egress_tapped);
  m.check_unclaimed();
  MergedWire merged = m.finish(client_addresses);
  for (LabEvent& e : reordering_errors(merged.events)) merged.errors.push_back(std::move(e));
  return merged;
}

}  // namespace lastack
