// The trace model's small helpers: names and times shared by the oracle and the reports.
#include "lastack/trace.hpp"

namespace lastack {

std::string_view fate_name(Fate f) {
  switch (f) {
    case Fate::passed: return "passed";
    case Fate::dropped: return "dropped";
    case Fate::delayed: return "delayed";
    case Fate::held: return "held";
    case Fate::duplicated: return "duplicated";
  }
  return "unknown";
}

std::string_view link_drop_name(LinkDrop d) {
  switch (d) {
    case LinkDrop::none: return "none";
    case LinkDrop::loss: return "lost";
    case LinkDrop::queue_full: return "queue full";
    case LinkDrop::held_limit: return "held limit";
  }
  return "unknown";
}

std::string_view retransmit_cause_name(RetransmitCause c) {
  switch (c) {
    case RetransmitCause::rto: return "rto";
    case RetransmitCause::loss_probe: return "loss-probe";
    case RetransmitCause::fast: return "fast";
    case RetransmitCause::synack: return "synack";
  }
  return "unknown";
}

std::string_view step_result_name(StepResult r) {
  switch (r) {
    case StepResult::ok: return "ok";
    case StepResult::eof: return "eof";
    case StepResult::error: return "error";
    case StepResult::aborted: return "aborted";
    case StepResult::unsupported: return "unsupported";
  }
  return "error";
}

std::optional<StepResult> step_result_from_name(std::string_view name) {
  for (StepResult r : {StepResult::ok, StepResult::eof, StepResult::error, StepResult::aborted,
                       StepResult::unsupported})
    if (step_result_name(r) == name) return r;
  return std::nullopt;
}

Instant event_time(const TraceEvent& e) {
  return std::visit([](const auto& ev) { return ev.at; }, e);
}

std::string_view observation_note(const Trace& trace) {
  return trace.kernel_source == KernelSource::sampled ? sampling_note : std::string_view{};
}

}  // namespace lastack
