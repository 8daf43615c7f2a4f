#pragma once
// The [link] as a schedule: for each segment that reaches it, when it leaves (latency, jitter,
// the rate's queue), or why it is dropped (loss, a full queue), and whether it arrives twice.
// Pure: the interceptor gives each segment's arrival time and size, and holds its verdict until
// the time this returns (harness/engine/interceptor).
//
// Chance is drawn on the run's seed (decide/random_draw), one draw per segment and setting, from
// the segment itself: its connection, direction, relative seq and ack, length, flags, and how
// many times the same segment crossed before. So the same seed loses, duplicates and delays the
// same segments whatever else the wire carried in between (a pure ACK more or less shifts nothing).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "lastack/clock.hpp"
#include "lastack/per_side.hpp"
#include "lastack/flow_tracker.hpp"
#include "lastack/policy.hpp"
#include "lastack/segment.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// A segment as the link sees it.
struct LinkSegment {
  Side from = Side::client;
  ConnectionIndex connection;
  std::uint32_t rel_seq = 0, rel_ack = 0;
  std::uint32_t payload = 0;    // TCP payload bytes
  std::uint8_t flags = 0;       // the TCP flags byte
  std::uint32_t length = 0;     // the IP packet's length: what the rate carries
};

/// `seg` (classified as `info`, `length` bytes of IP packet) as the link sees it.
LinkSegment link_segment(const Segment& seg, const Classified& info, std::uint32_t length);

/// The note a segment's line carries for what the link did to it under `dir`: "lost on the link
/// (loss 0.1: drew 0.0421)", "dropped by the link: its queue (65536 bytes) was full", "duplicated
/// by the link (duplicate 0.05: drew 0.0133)"; empty when it only delayed it.
std::string link_note(const LinkPassage& p, const LinkDirection& dir);

/// What the link draws for.
enum class LinkChance : std::uint8_t { loss = 0, duplicate = 1, jitter = 2 };

/// The draw in [0, 1) the link makes for `chance` on the `occurrence`-th (0-based) crossing of
/// `seg` under `seed`: a function of these alone (stream_seed's mix, chained over the fields).
double link_draw(std::uint64_t seed, LinkChance chance, const LinkSegment& seg, std::uint32_t occurrence);

/// How long `bytes` take at `rate` bits per second.
Duration transmission_time(std::uint64_t bytes, std::uint64_t rate);

/// One run's link: a schedule per direction.
class LinkModel {
 public:
  /// `max_held`: the most segments one direction may hold at once (the interceptor's share of
  /// the kernel's queue); one more is dropped as the link's (LinkDrop::held_limit).
  LinkModel(Link link, std::uint64_t seed, std::size_t max_held);

  /// The passage of `seg`, reaching the link at `now` (never earlier than the one before):
  /// dropped (lost, or no room), or due at `due` = now + its wait behind the rate + its own
  /// transmission + latency ± jitter, and never before an earlier segment of its direction
  /// unless that direction may reorder.
  LinkPassage admit(const LinkSegment& seg, Instant now);

  /// Model `link` from now on (`--control`'s `link set`): each direction keeps its queue and its
  /// order, so a segment under the new settings never overtakes one admitted before (unless it may reorder).
  void set_link(Link link) { link_ = std::move(link); }

  /// The passage of a segment lastack itself sends (`length` bytes of IP packet, seemingly
  /// `from` that side), reaching the link at `now`: behind the rate and `latency`, never before
  /// an earlier segment of its direction unless it may reorder, and never drawn on (neither lost,
  /// duplicated, jittered nor refused for room): a fault the policy asked for is carried out, not
  /// left to the link's chance, and a draw keyed on a segment no endpoint sent would not replay.
  LinkPassage carry(Side from, std::uint32_t length, Instant now);

  /// The link it models.
  const Link& link() const { return link_; }

 private:
  struct Direction {
    std::deque<std::pair<Instant, std::uint32_t>> sending;  // (transmission ends, bytes): in the rate's queue
    Instant busy_until{};                                   // the rate's transmitter is busy until
    std::optional<Instant> last_due;                        // the latest due so far (order)
    std::multiset<Instant> held;                            // dues not yet reached
    std::map<std::tuple<ConnectionIndex, std::uint32_t, std::uint32_t, std::uint32_t, std::uint8_t>, std::uint32_t> seen;
  };
  /// Why `seg` cannot join the rate's queue of `d` at `now`; LinkDrop::none when it can.
  LinkDrop room(Direction& d, const LinkDirection& s, const LinkSegment& seg, Instant now) const;

  Link link_;
  std::uint64_t seed_ = 0;
  std::size_t max_held_ = 0;
  PerSide<Direction> dir_;
};

/// A segment lastack itself sends, never an endpoint's.
enum class OwnSegment : std::uint8_t {
  fault_copy,  // a duplicate fault's copies, sent with their original
  link_copy,   // the link's own duplicate
  held_copy,   // a duplicate fault's copies kept until `until` or `deadline`
  reset,       // a reset fault's RST, in place of the segment it replaced
  lab_rst,     // a [[lab]] inject-rst action's RST
};

/// How one of lastack's own segments crosses the [link].
enum class OwnCrossing : std::uint8_t {
  behind_original,  // it waits with its original and is injected right after the original goes
  carried,          // it reaches the link when lastack sends it, on its own: LinkModel::carry
};

/// How `kind` crosses the link: copies made as their original is queued follow it (sent apart
/// they would overtake it); a segment sent later (held copies, RSTs) crosses on its own, in its
/// direction's order, so a reset's RST arrives behind what its sender sent before it.
OwnCrossing own_crossing(OwnSegment kind);

/// True when the link draws at all (loss, duplicate or jitter in a direction), so runs need a seed.
bool link_draws_at_random(const std::optional<Link>& link);

}  // namespace lastack
