// A decision turned into the interceptor's fate, verdict and note for one queued segment.
#include <catch2/catch.hpp>

#include "harness/core/decide/segment_fate.hpp"

using namespace lastack;

namespace {

std::vector<FaultRule> faults() {
  FaultRule any;  // selects any segment
  any.action = ActionKind::drop;
  FaultRule final_ack;
  final_ack.action = ActionKind::duplicate;
  final_ack.match.segment = Role::final_ack;
  return {any, final_ack};
}

Decision decided(ActionKind action, std::size_t fault, std::uint32_t copies = 0, bool held = false) {
  Decision d;
  d.pass = false;
  d.action = action;
  d.fault = fault;
  d.copies = copies;
  d.copies_held = held;
  return d;
}

}  // namespace

TEST_CASE("segment fate: no rule applied: passed, batched with the passes, no note") {
  const SegmentFate f = segment_fate(Decision{}, faults(), 7, 60, 60);
  CHECK(f.fate == Fate::passed);
  CHECK(f.verdict == QueueVerdict::pass);
  CHECK(f.note.empty());
  CHECK(f.copies == 0);
  CHECK(f.error.empty());
}

TEST_CASE("segment fate: drop, delay and hold, each named by its fault") {
  const SegmentFate drop = segment_fate(decided(ActionKind::drop, 1), faults(), 7, 60, 60);
  CHECK(drop.fate == Fate::dropped);
  CHECK(drop.verdict == QueueVerdict::drop);
  CHECK(drop.note == "dropped by fault 2: final-ack");
  const SegmentFate delay = segment_fate(decided(ActionKind::delay, 0), faults(), 7, 60, 60);
  CHECK(delay.fate == Fate::delayed);
  CHECK(delay.verdict == QueueVerdict::wait);
  CHECK(delay.note == "delayed by fault 1: segment");
  const SegmentFate hold = segment_fate(decided(ActionKind::hold, 1), faults(), 7, 60, 60);
  CHECK(hold.fate == Fate::held);
  CHECK(hold.verdict == QueueVerdict::wait);
  CHECK(hold.note == "held by fault 2: final-ack");
}

TEST_CASE("segment fate: a duplicate's original is accepted now, its copies sent at once or held") {
  const SegmentFate now = segment_fate(decided(ActionKind::duplicate, 1, 2), faults(), 7, 1500, 1500);
  CHECK(now.fate == Fate::duplicated);
  CHECK(now.verdict == QueueVerdict::accept);
  CHECK(now.note == "duplicated x2 by fault 2: final-ack");
  CHECK(now.copies == 2);
  CHECK_FALSE(now.hold_copies);
  const SegmentFate held = segment_fate(decided(ActionKind::duplicate, 1, 3, true), faults(), 7, 1500, 1500);
  CHECK(held.fate == Fate::duplicated);
  CHECK(held.verdict == QueueVerdict::accept);
  CHECK(held.note == "duplicated x3, the copies held by fault 2: final-ack");
  CHECK(held.copies == 3);
  CHECK(held.hold_copies);
  CHECK(held.error.empty());
}

TEST_CASE("segment fate: a duplicate whose payload was not captured goes on alone, and says so") {
  const SegmentFate f = segment_fate(decided(ActionKind::duplicate, 1, 2, true), faults(), 42, 128, 1500);
  CHECK(f.fate == Fate::passed);
  CHECK(f.verdict == QueueVerdict::accept);
  CHECK(f.copies == 0);
  CHECK_FALSE(f.hold_copies);
  CHECK(f.note == "not duplicated by fault 2: final-ack (copy impossible: payload not captured)");
  CHECK(f.error == "harness error: fault 2 could not duplicate packet 42: only 128 of 1500 bytes were queued");
}
