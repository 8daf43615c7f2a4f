#include "harness/core/oracle/program_end.hpp"

#include <utility>

#include "harness/core/oracle/words/finding_words.hpp"

namespace lastack {

namespace {

// The side's program's last event (a command or function, not an agent step): how it ended.
EndSeen end_of(const Trace& trace, Side side) {
  EndSeen seen;
  for (const TraceEvent& ev : trace.events)
    if (const auto* a = std::get_if<AppEvent>(&ev); a && a->side == side && a->command()) seen.ended = *a;
  return seen;
}

CheckSubject side_subject(Side side) {
  CheckSubject s;
  s.side = side;
  s.resolved = side;
  return s;
}

}  // namespace

CheckResult check_command_exit(const Trace& trace) {
  EndSeen seen = end_of(trace, Side::client);
  const bool ok = seen.ended && seen.ended->result == StepResult::ok;
  return judged(Finding{CheckId{CheckKind::command_exit, side_subject(Side::client), {}}, InvariantClaim{},
                        std::move(seen), {}, {}, {}},
                outcome_of(ok));
}

CheckResult check_command_ended(const Trace& trace) {
  EndSeen seen = end_of(trace, Side::client);
  for (const TraceEvent& ev : trace.events)
    if (const auto* l = std::get_if<LabEvent>(&ev); l && l->kind == LabEventKind::timeout) seen.timed_out = true;
  const bool ok = seen.ended && !seen.timed_out;
  return judged(Finding{CheckId{CheckKind::command_ended, side_subject(Side::client), {}}, InvariantClaim{},
                        std::move(seen), {}, {}, {}},
                outcome_of(ok));
}

CheckResult check_function_ended(const Trace& trace, Side side) {
  EndSeen seen = end_of(trace, side);
  // The server's function may end because the run stopped it.
  const bool ok = seen.ended && (seen.ended->result == StepResult::ok ||
                                 (side == Side::server && seen.ended->result == StepResult::aborted));
  return judged(Finding{CheckId{CheckKind::function_ended, side_subject(side), {}}, InvariantClaim{}, std::move(seen),
                        {}, {}, {}},
                outcome_of(ok));
}

}  // namespace lastack
