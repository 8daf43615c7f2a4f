#pragma once
// The words a JSON Lines trace uses for the trace model's enums, both ways: the writer
// (report.cpp) spells them, the reader (trace_reader.cpp) parses them back.
#include <optional>
#include <string_view>

#include "lastack/roles.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// "none", "retransmit", "keepalive", "time_wait", "probe".
std::string_view socket_timer_name(SocketTimer t);
/// "note", "timeout", "timewait-destroyed", "harness-error".
std::string_view lab_event_kind_name(LabEventKind k);
/// "traced", "sampled".
std::string_view kernel_source_name(KernelSource s);

/// Inverse of side_name; nullopt for any other word.
std::optional<Side> side_from_name(std::string_view name);
/// Inverse of fate_name.
std::optional<Fate> fate_from_name(std::string_view name);
/// Inverse of socket_timer_name.
std::optional<SocketTimer> socket_timer_from_name(std::string_view name);
/// Inverse of retransmit_cause_name.
std::optional<RetransmitCause> retransmit_cause_from_name(std::string_view name);
/// "capture-lost", "wire-reordered", ...: the JSON spelling of a harness error's cause.
std::string_view harness_cause_name(HarnessCause c);
/// Inverse of harness_cause_name.
std::optional<HarnessCause> harness_cause_from_name(std::string_view name);

/// Inverse of lab_event_kind_name.
std::optional<LabEventKind> lab_event_kind_from_name(std::string_view name);
/// Inverse of kernel_source_name.
std::optional<KernelSource> kernel_source_from_name(std::string_view name);
/// A policy step's verb: "connect", "recv-until-eof", ...
std::string_view step_kind_name(StepKind k);
/// The reverse of step_kind_name; nullopt for anything else.
std::optional<StepKind> step_kind_from_name(std::string_view name);
/// Inverse of state_name exactly ("FIN_WAIT_1", "CLOSED"): a trace spells states one way only.
std::optional<TcpState> state_from_trace_name(std::string_view name);

}  // namespace lastack
