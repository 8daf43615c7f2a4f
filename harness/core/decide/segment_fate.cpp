// A decision turned into the interceptor's verdict, fate and note for one queued segment.
#include "harness/core/decide/segment_fate.hpp"

#include <fmt/format.h>

namespace lastack {

std::string fault_note(const std::vector<FaultRule>& faults, std::size_t fault, std::string_view verb) {
  const auto& rule = faults.at(fault);
  std::string what = rule.match.segment ? std::string(role_name(*rule.match.segment)) : "segment";
  return fmt::format("{} by fault {}: {}", verb, fault + 1, what);
}

namespace {
SegmentFate duplicate_fate(const Decision& d, const std::vector<FaultRule>& faults, std::uint64_t packet,
                           std::size_t queued, std::uint32_t length) {
  SegmentFate f{Fate::duplicated, QueueVerdict::accept};
  if (queued == length && d.copies_held) {
    f.note = fault_note(faults, *d.fault, fmt::format("duplicated x{}, the copies held", d.copies));
    f.copies = d.copies;
    f.hold_copies = true;
  } else if (queued == length) {
    f.note = fault_note(faults, *d.fault, fmt::format("duplicated x{}", d.copies));
    f.copies = d.copies;
  } else {
    // It went on alone: the trace must not claim copies that were never sent.
    f.fate = Fate::passed;
    f.note = fault_note(faults, *d.fault, "not duplicated") + " (copy impossible: payload not captured)";
    f.error = fmt::format("harness error: fault {} could not duplicate packet {}: only {} of {} bytes were queued",
                          *d.fault + 1, packet, queued, length);
  }
  return f;
}

SegmentFate acted_fate(const Decision& d, const std::vector<FaultRule>& faults, std::uint64_t packet,
                       std::size_t queued, std::uint32_t length) {
  switch (d.action) {
    case ActionKind::drop:
      return {Fate::dropped, QueueVerdict::drop, fault_note(faults, *d.fault, "dropped")};
    case ActionKind::reset: {
      // It never reaches its receiver: the RSTs go in its place (interceptor, wire/reset_segment).
      const std::optional<Side> to = faults.at(*d.fault).reset_to;
      const std::string ends = to ? fmt::format("the {}", side_name(*to)) : "both ends";
      SegmentFate f{Fate::dropped, QueueVerdict::drop, fault_note(faults, *d.fault, "replaced by a RST to " + ends)};
      f.reset = true;
      return f;
    }
    case ActionKind::duplicate:
      return duplicate_fate(d, faults, packet, queued, length);
    case ActionKind::delay:
      return {Fate::delayed, QueueVerdict::wait, fault_note(faults, *d.fault, "delayed")};
    case ActionKind::hold:
      break;
  }
  return {Fate::held, QueueVerdict::wait, fault_note(faults, *d.fault, "held")};
}

}  // namespace

std::string chance_note(const Decision& d) {
  for (const FaultDraw& draw : d.draws)
    if (d.fault && draw.fault == *d.fault) return fmt::format(" (by chance: p={}, drew {:.4f})", draw.probability, draw.value);
  return "";
}

SegmentFate segment_fate(const Decision& d, const std::vector<FaultRule>& faults, std::uint64_t packet,
                         std::size_t queued, std::uint32_t length) {
  if (d.pass) return {Fate::passed, QueueVerdict::pass};
  SegmentFate f = acted_fate(d, faults, packet, queued, length);
  f.note += chance_note(d);
  return f;
}

}  // namespace lastack
