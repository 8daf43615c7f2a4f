// The link's schedule: latency, jitter and order, the rate and its bounded queue, loss and
// duplication drawn from the run's seed and the segment itself.
#include <catch2/catch.hpp>

#include <vector>

#include <fmt/format.h>

#include "harness/core/decide/link_model.hpp"

using namespace lastack;
using namespace std::chrono_literals;

namespace {

Instant at(Duration d) { return Instant(d); }

Link both(const LinkDirection& d) {
  Link l;
  l.from[Side::client] = d;
  l.from[Side::server] = d;
  return l;
}

/// The i-th data segment from the server: 1000 bytes of payload, 1052 on the wire.
LinkSegment data(std::uint32_t i, std::uint32_t length = 1052) {
  return {Side::server, 0, 1 + 1000 * i, 1, 1000, 0x18, length};
}

}  // namespace

TEST_CASE("latency alone: each segment is due its latency after it arrives, nothing drawn") {
  LinkDirection d;
  d.latency = 50ms;
  LinkModel link(both(d), 7, 100);
  const LinkPassage p = link.admit(data(0), at(1ms));
  CHECK(p.drop == LinkDrop::none);
  CHECK(p.due == at(51ms));
  CHECK(p.delay == 50ms);
  CHECK(p.queued == 0ns);
  CHECK_FALSE(p.loss_draw);
  CHECK_FALSE(p.jitter_draw);
  CHECK_FALSE(p.duplicate_draw);
  CHECK_FALSE(link_draws_at_random(both(d)));
}

TEST_CASE("the rate sends one segment after another, each taking its size over the rate") {
  LinkDirection d;
  d.rate = 8'000'000;  // 1000 bytes per ms
  d.queue_bytes = 1'000'000;
  LinkModel link(both(d), 7, 100);
  CHECK(transmission_time(1000, 8'000'000) == 1ms);
  const LinkPassage a = link.admit(data(0, 1000), at(0ms));
  const LinkPassage b = link.admit(data(1, 1000), at(0ms));
  const LinkPassage c = link.admit(data(2, 1000), at(500us));
  CHECK(a.due == at(1ms));
  CHECK(b.due == at(2ms));
  CHECK(c.due == at(3ms));
  CHECK(c.queued == 2500us);
  // An idle transmitter starts at once.
  CHECK(link.admit(data(3, 1000), at(10ms)).due == at(11ms));
  // The other direction has its own transmitter.
  CHECK(link.admit({Side::client, 0, 1, 1, 948, 0x18, 1000}, at(0ms)).due == at(1ms));
}

TEST_CASE("the rate's queue is bounded: what does not fit is the link's drop, room comes back as it sends") {
  LinkDirection d;
  d.rate = 8'000'000;
  d.queue_bytes = 2500;
  LinkModel link(both(d), 7, 100);
  CHECK(link.admit(data(0, 1000), at(0ms)).drop == LinkDrop::none);
  CHECK(link.admit(data(1, 1000), at(0ms)).drop == LinkDrop::none);
  const LinkPassage full = link.admit(data(2, 1000), at(0ms));
  CHECK(full.drop == LinkDrop::queue_full);
  CHECK(link_note(full, d) == "dropped by the link: its queue (2500 bytes) was full");
  CHECK(link.admit(data(2, 1000), at(1ms)).drop == LinkDrop::none);  // the first one was sent

  LinkDirection s;
  s.rate = 8'000'000;
  s.queue_segments = 2;
  LinkModel counted(both(s), 7, 100);
  CHECK(counted.admit(data(0, 100), at(0ms)).drop == LinkDrop::none);
  CHECK(counted.admit(data(1, 100), at(0ms)).drop == LinkDrop::none);
  CHECK(counted.admit(data(2, 100), at(0ms)).drop == LinkDrop::queue_full);
}

TEST_CASE("jitter: delays within latency ± jitter, in order unless reorder = true") {
  LinkDirection d;
  d.latency = 50ms;
  d.jitter = 10ms;
  CHECK(link_draws_at_random(both(d)));
  LinkModel ordered(both(d), 7, 10000);
  d.reorder = true;
  LinkModel unordered(both(d), 7, 10000);
  Instant last_ordered{}, last_free{};
  int overtaken = 0;
  Duration lo = 1h, hi = 0ns;
  for (std::uint32_t i = 0; i < 2000; ++i) {
    const Instant now = at(i * 100us);
    const LinkPassage o = ordered.admit(data(i), now);
    const LinkPassage f = unordered.admit(data(i), now);
    CHECK(o.due >= last_ordered);
    if (f.due < last_free) ++overtaken;
    CHECK(f.delay >= 40ms);
    CHECK(f.delay <= 60ms);
    lo = std::min(lo, f.delay);
    hi = std::max(hi, f.delay);
    CHECK(f.due == now + f.delay);
    CHECK(*o.jitter_draw == *f.jitter_draw);  // the same segment draws the same
    last_ordered = o.due;
    last_free = std::max(last_free, f.due);
  }
  CHECK(overtaken > 100);
  CHECK(lo < 41ms);  // the whole range is used
  CHECK(hi > 59ms);
}

TEST_CASE("loss and duplicate come from the seed and the segment: the same seed decides the same segments") {
  LinkDirection d;
  d.loss = 0.1;
  d.duplicate = 0.05;
  const auto run = [&](std::uint64_t seed, bool extra_acks) {
    LinkModel link(both(d), seed, 100000);
    std::vector<std::pair<bool, bool>> fates;  // per data segment: lost, duplicated
    for (std::uint32_t i = 0; i < 5000; ++i) {
      // Pure ACKs the other way, on some runs only, must not shift the data's draws.
      if (extra_acks) (void)link.admit({Side::client, 0, 1, 1 + 1000 * i, 0, 0x10, 52}, at(i * 1ms));
      const LinkPassage p = link.admit(data(i), at(i * 1ms));
      fates.emplace_back(p.drop == LinkDrop::loss, p.duplicated);
    }
    return fates;
  };
  const auto a = run(7, false);
  CHECK(a == run(7, true));
  const auto other = run(8, false);
  CHECK(a != other);
  std::size_t lost = 0, doubled = 0;
  for (const auto& [l, dup] : a) lost += l, doubled += dup;
  CHECK(lost > 400);  // 10 % of 5000, within a generous margin
  CHECK(lost < 600);
  CHECK(doubled > 170);  // 5 % of the 4500 or so that were not lost
  CHECK(doubled < 290);
}

TEST_CASE("a segment sent again draws anew, and a lost one says what it drew") {
  LinkDirection d;
  d.loss = 0.5;
  LinkModel link(both(d), 7, 100);
  const LinkPassage first = link.admit(data(0), at(0ms));
  const LinkPassage again = link.admit(data(0), at(200ms));
  CHECK(*first.loss_draw != *again.loss_draw);
  CHECK(*first.loss_draw == link_draw(7, LinkChance::loss, data(0), 0));
  CHECK(*again.loss_draw == link_draw(7, LinkChance::loss, data(0), 1));
  const LinkPassage& lost = *first.loss_draw < 0.5 ? first : again;
  if (lost.drop == LinkDrop::loss)
    CHECK(link_note(lost, d) == fmt::format("lost on the link (loss 0.5: drew {:.4f})", *lost.loss_draw));
}

TEST_CASE("the link never holds more than its share of the kernel's queue") {
  LinkDirection d;
  d.latency = 100ms;
  LinkModel link(both(d), 7, 3);
  for (std::uint32_t i = 0; i < 3; ++i) CHECK(link.admit(data(i), at(0ms)).drop == LinkDrop::none);
  CHECK(link.admit(data(3), at(1ms)).drop == LinkDrop::held_limit);
  CHECK(link.admit(data(3), at(100ms)).drop == LinkDrop::none);  // the first three are gone
}

TEST_CASE("link draws are fixed numbers: a seed replays the same link on any build") {
  const double v = link_draw(7, LinkChance::loss, data(0), 0);
  CHECK(v >= 0);
  CHECK(v < 1);
  CHECK(v == link_draw(7, LinkChance::loss, data(0), 0));
  CHECK(v != link_draw(7, LinkChance::duplicate, data(0), 0));
  CHECK(v != link_draw(7, LinkChance::loss, {Side::client, 0, 1, 1, 1000, 0x18, 1052}, 0));
}

TEST_CASE("lastack's own segments: copies follow their original, RSTs and held copies cross on their own") {
  CHECK(own_crossing(OwnSegment::fault_copy) == OwnCrossing::behind_original);
  CHECK(own_crossing(OwnSegment::link_copy) == OwnCrossing::behind_original);
  CHECK(own_crossing(OwnSegment::held_copy) == OwnCrossing::carried);
  CHECK(own_crossing(OwnSegment::reset) == OwnCrossing::carried);
  CHECK(own_crossing(OwnSegment::lab_rst) == OwnCrossing::carried);
}

TEST_CASE("a segment lastack sends crosses behind what its direction sent before it, and draws nothing") {
  LinkDirection d;
  d.latency = 50ms;
  d.jitter = 10ms;
  d.loss = 1;  // every endpoint's segment is lost...
  LinkModel link(both(d), 7, 100);
  CHECK(link.admit(data(0), at(1ms)).drop == LinkDrop::loss);
  // ...but a reset's RST is carried out: latency only, no draw.
  const LinkPassage rst = link.carry(Side::server, 40, at(2ms));
  CHECK(rst.drop == LinkDrop::none);
  CHECK(rst.due == at(52ms));
  CHECK(rst.delay == 50ms);
  CHECK_FALSE(rst.loss_draw);
  CHECK_FALSE(rst.jitter_draw);
  CHECK_FALSE(rst.duplicate_draw);

  // In order: a RST sent just after a segment the jitter delayed longer waits behind it.
  LinkDirection j;
  j.latency = 50ms;
  j.jitter = 10ms;
  LinkModel ordered(both(j), 7, 100);
  Instant latest{};
  for (std::uint32_t i = 0; i < 20; ++i) latest = std::max(latest, ordered.admit(data(i), at(1ms)).due);
  CHECK(latest > at(51ms));  // some draw delayed past the latency
  CHECK(ordered.carry(Side::server, 40, at(1ms)).due == latest);
  // The other direction has nothing ahead of it.
  CHECK(ordered.carry(Side::client, 40, at(1ms)).due == at(51ms));
}

TEST_CASE("a segment lastack sends takes the rate's time and is never refused for room") {
  LinkDirection d;
  d.rate = 8'000'000;      // 1 byte per µs
  d.queue_segments = 1;
  LinkModel link(both(d), 7, 100);
  CHECK(link.admit(data(0, 1000), at(0ms)).due == at(1ms));
  CHECK(link.admit(data(1, 1000), at(0ms)).drop == LinkDrop::queue_full);
  const LinkPassage rst = link.carry(Side::server, 1000, at(0ms));
  CHECK(rst.drop == LinkDrop::none);
  CHECK(rst.due == at(2ms));  // behind the first on the transmitter
  CHECK(rst.queued == 2ms);
}
