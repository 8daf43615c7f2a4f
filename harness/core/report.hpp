#pragma once
// Reports: ladder diagram, verdict table, JSON Lines. Pure rendering from the trace.
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "harness/core/oracle.hpp"
#include "harness/core/trace.hpp"

namespace lastack {

struct LadderOptions {
  bool color = false;      // ANSI colours for drops and retransmissions
  std::size_t width = 78;  // total width
};

/// The ladder: client and server columns, one arrow per wire segment labelled with flags,
/// relative seq/ack and length; dropped segments end mid-way with an 'X'; retransmissions
/// carry their gap; each side's state changes are written beside its column.
std::string render_ladder(const Trace& trace, const LadderOptions& opts = {});

/// The verdict table: one row per check, PASS / FAIL / NOT CHECKED / N/A, expected vs saw for
/// failures, the reason for a check not made; then "N checks: P passed, F failed, U not checked"
/// and, when given, `note` (the sampling note) on a line of its own.
std::string render_verdicts(const std::vector<CheckResult>& results, bool color = false,
                            std::string_view note = {});

/// "N checks: P passed, F failed, U not checked" (", A not applicable" when some are).
std::string check_counts_text(const std::vector<CheckResult>& results);

/// The note a report carries about how the kernel was observed: sampling_note when sampled.
std::string_view observation_note(const Trace& trace);

/// The JSON Lines layout write_jsonl writes and read_trace_jsonl reads (the header's "format").
inline constexpr int jsonl_format = 1;

/// The trace as JSON Lines: a header line (the run's settings), one object per event (wire
/// events with their captured bytes in hex), then one per check.
void write_jsonl(const Trace& trace, const std::vector<CheckResult>& results, std::ostream& out);

/// The header line write_jsonl writes for `trace`.
nlohmann::ordered_json trace_header_json(const Trace& trace);

/// The line write_jsonl writes for one event.
nlohmann::ordered_json trace_event_json(const TraceEvent& event);

}  // namespace lastack
