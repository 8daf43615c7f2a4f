#pragma once
// The trace as JSON Lines, the format `--json` writes and `lastack replay` reads back
// (harness/core/record/trace_reader.hpp).
#include <ostream>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "lastack/oracle.hpp"
#include "lastack/trace.hpp"

namespace lastack {

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
