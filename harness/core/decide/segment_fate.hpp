#pragma once
// What the interceptor does with one queued segment once the decision engine has spoken: the
// fate the trace logs, the verdict the queue gets, and the duplicate's copies. Pure: the
// interceptor performs it (harness/engine/interceptor).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/decide/decision.hpp"
#include "lastack/policy.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// How the queue is answered for one segment.
enum class QueueVerdict : std::uint8_t {
  pass,    // accepted with the passes before it, in one batch when nothing waits (no rule applied)
  accept,  // accepted now, after the passes before it (a duplicate's original)
  drop,    // dropped now, after the passes before it
  wait,    // no verdict yet: delayed or held until the engine releases it
};

/// One queued segment's fate and what to do for it.
struct SegmentFate {
  Fate fate = Fate::passed;
  QueueVerdict verdict = QueueVerdict::pass;
  std::string note;               // "dropped by fault 1: final-ack"; empty when no rule applied
  std::uint32_t copies = 0;       // duplicate: extra copies, injected right after the original is logged...
  bool hold_copies = false;       // ...or (until/deadline) kept until the engine releases them
  bool reset = false;             // dropped, and RSTs sent in its place (action reset)
  std::string error;              // not empty: a harness error (the copy was impossible)
};

/// "dropped by fault 2: final-ack" (`verb` by fault N, then the role the rule selects, or
/// "segment"); `fault` indexes `faults`.
std::string fault_note(const std::vector<FaultRule>& faults, std::size_t fault, std::string_view verb);

/// " (by chance: p=0.1, drew 0.0423)" when the fault that acted under `d` drew for it; else "".
std::string chance_note(const Decision& d);

/// The fate of queued segment `packet` under decision `d` (whose fault indexes `faults`): a pass
/// is batched, a drop (or a reset's replaced segment) answered now, a delay or hold waits; a duplicate's original is accepted
/// now and its copies sent at once or held, but only when the queue copied the whole packet
/// (`queued` bytes of `length`): otherwise it goes on alone, logged as passed, and the missing
/// copy is a harness error, so the trace never claims copies that were never sent.
SegmentFate segment_fate(const Decision& d, const std::vector<FaultRule>& faults, std::uint64_t packet,
                         std::size_t queued, std::uint32_t length);

}  // namespace lastack
