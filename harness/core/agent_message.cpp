#include "harness/core/agent_message.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "harness/core/error.hpp"

namespace lastack {

namespace {

using Json = nlohmann::ordered_json;

struct ToJson {
  Json operator()(const AgentStepMessage& m) const {
    return Json{{"t_ns", m.monotonic.count()}, {"step", m.step}, {"outcome", m.outcome}, {"bytes", m.bytes}};
  }
  Json operator()(const AgentReadyMessage&) const { return Json{{"ready", true}}; }
  Json operator()(const AgentPortsMessage& m) const { return Json{{"ports", {m.local, m.remote}}}; }
};

[[noreturn]] void unreadable(std::string_view line, std::string_view why) {
  throw HarnessError(fmt::format("agent process wrote an unreadable line ({}): {}", why, line));
}

}  // namespace

std::string format_agent_message(const AgentMessage& message) {
  return std::visit(ToJson{}, message).dump() + "\n";
}

AgentMessage parse_agent_message(std::string_view line) {
  const Json json = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) unreadable(line, "not a JSON object");
  try {
    if (json.contains("ready")) {
      if (json.at("ready") != true) unreadable(line, "\"ready\" must be true");
      return AgentReadyMessage{};
    }
    if (json.contains("ports")) {
      const Json& ports = json.at("ports");
      const auto is_port = [](const Json& p) { return p.is_number_unsigned() && p.get<std::uint64_t>() <= 65535; };
      if (!ports.is_array() || ports.size() != 2 || !is_port(ports[0]) || !is_port(ports[1]))
        unreadable(line, "\"ports\" must be [local, remote]");
      return AgentPortsMessage{ports[0].get<std::uint16_t>(), ports[1].get<std::uint16_t>()};
    }
    AgentStepMessage step;
    step.monotonic = std::chrono::nanoseconds(json.at("t_ns").get<std::int64_t>());
    step.step = json.at("step").get<std::string>();
    step.outcome = json.at("outcome").get<std::string>();
    step.bytes = json.at("bytes").get<std::uint64_t>();
    return step;
  } catch (const nlohmann::json::exception& e) {
    unreadable(line, e.what());
  }
}

}  // namespace lastack
