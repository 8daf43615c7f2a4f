#pragma once
// What a `lastack agent` process tells the run that started it: one JSON line per message on
// its events descriptor. The agent writes them (agents/agent_command), the run reads them
// (harness/run/agent_process).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "lastack/trace.hpp"

namespace lastack {

/// One finished step: {"t_ns": CLOCK_MONOTONIC ns, "step": "send 1000", "outcome": "ok", "bytes": 1000,
/// "result": "ok", "errno": 0, "verified": false, "corrupted": null | [begin, end],
/// "corrupted_from": null | ["client", connection, offset]}; the fields after "bytes" are optional.
struct AgentStepMessage {
  std::chrono::nanoseconds monotonic{0};  // when the step finished, on CLOCK_MONOTONIC
  std::string step;
  std::string outcome;
  std::uint64_t bytes = 0;
  StepResult result = StepResult::ok;
  int error = 0;
  bool verified = false;
  std::optional<ByteRange> corrupted;
  std::optional<PatternOrigin> corrupted_from;
  bool operator==(const AgentStepMessage&) const = default;
};

/// A server is listening: {"ready": true}.
struct AgentReadyMessage {
  bool operator==(const AgentReadyMessage&) const = default;
};

/// The connection's ports, once connected or accepted: {"ports": [local, remote]}.
struct AgentPortsMessage {
  std::uint16_t local = 0, remote = 0;
  bool operator==(const AgentPortsMessage&) const = default;
};

using AgentMessage = std::variant<AgentStepMessage, AgentReadyMessage, AgentPortsMessage>;

/// The message as one JSON line, '\n' included.
std::string format_agent_message(const AgentMessage& message);

/// Parse one line (without its '\n'). Throws HarnessError naming the line when it is not one of
/// the three messages.
AgentMessage parse_agent_message(std::string_view line);

}  // namespace lastack
