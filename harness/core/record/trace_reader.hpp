#pragma once
// Reading a JSON Lines trace (write_jsonl's output) back into the trace model, so a recorded run
// can be judged again: wire events are re-parsed from their captured bytes and re-classified by
// a fresh FlowTracker, in order, exactly as the run's interceptor did. Pure: no I/O beyond the
// stream it is given.
#include <istream>
#include <string_view>
#include <vector>

#include "lastack/oracle.hpp"
#include "lastack/trace.hpp"
#include "lastack/trace_jsonl.hpp"

namespace lastack {

/// A recorded run: its trace, and the verdicts it was given when it ran.
struct RecordedRun {
  Trace trace;
  std::vector<CheckResult> checks;  // the file's check lines, in file order
};

/// Read a whole JSON Lines trace. The file's segment fields, roles and connections are only
/// cross-checked against what the bytes re-parse and re-classify as; times come from the exact
/// t_ns fields. Throws InputError("origin:line: what is wrong") for anything malformed: not JSON,
/// an unknown event type, a missing or out-of-range field, bad hex, bytes that are not a TCP
/// segment, a recorded field the bytes contradict, events out of time order.
RecordedRun read_recorded_run(std::istream& in, std::string_view origin);

/// The trace alone (read_recorded_run without the recorded verdicts).
Trace read_trace_jsonl(std::istream& in, std::string_view origin);

/// Re-parse every wire event's bytes and classify them again, in trace order, with a fresh
/// FlowTracker seeded with trace.client_addresses: after bytes are edited or segments removed,
/// every segment has the fields and roles a run would have given it. Throws ParseError.
void reclassify_wire(Trace& trace);

}  // namespace lastack
