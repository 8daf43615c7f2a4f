#include "harness/core/record/agent_message.hpp"

#include <limits>
#include <utility>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "lastack/error.hpp"

namespace lastack {

namespace {

using Json = nlohmann::ordered_json;

struct ToJson {
  Json operator()(const AgentStepMessage& m) const {
    Json j{{"t_ns", m.monotonic.count()}, {"step", m.step}, {"outcome", m.outcome}, {"bytes", m.bytes},
           {"result", step_result_name(m.result)}, {"errno", m.error}, {"verified", m.verified}};
    j["corrupted"] = m.corrupted ? Json::array({m.corrupted->begin, m.corrupted->end}) : Json(nullptr);
    j["corrupted_from"] = m.corrupted_from ? Json::array({std::string(side_name(m.corrupted_from->side)),
                                                          m.corrupted_from->stream, m.corrupted_from->offset})
                                           : Json(nullptr);
    return j;
  }
  Json operator()(const AgentReadyMessage&) const { return Json{{"ready", true}}; }
  Json operator()(const AgentPortsMessage& m) const { return Json{{"ports", {m.local, m.remote}}}; }
};

[[noreturn]] void unreadable(std::string_view line, std::string_view why) {
  throw HarnessError(fmt::format("agent process wrote an unreadable line ({}): {}", why, line));
}

// An integer that fits T; `name` says which field it is. nlohmann's get<T>() would convert a
// float (undefined behaviour when out of range: found by fuzz_agent_message) or wrap a wider integer.
template <typename T>
T integer(const Json& v, std::string_view name, std::string_view line) {
  if (v.is_number_unsigned() && std::in_range<T>(v.get<std::uint64_t>())) return static_cast<T>(v.get<std::uint64_t>());
  if (v.is_number_integer() && !v.is_number_unsigned() && std::in_range<T>(v.get<std::int64_t>()))
    return static_cast<T>(v.get<std::int64_t>());
  unreadable(line, fmt::format("\"{}\" must be an integer from {} to {}", name, std::numeric_limits<T>::min(),
                               std::numeric_limits<T>::max()));
}

// The typed fields after "bytes": optional, so an older agent's line still reads.
void read_step_result(const Json& json, std::string_view line, AgentStepMessage& step) {
  if (json.contains("result")) {
    const auto r = step_result_from_name(json.at("result").get<std::string>());
    if (!r) unreadable(line, "unknown \"result\"");
    step.result = *r;
  }
  step.error = json.contains("errno") ? integer<int>(json.at("errno"), "errno", line) : 0;
  step.verified = json.value("verified", false);
  if (json.contains("corrupted") && !json.at("corrupted").is_null()) {
    const Json& c = json.at("corrupted");
    step.corrupted = ByteRange{integer<std::uint64_t>(c.at(0), "corrupted", line),
                               integer<std::uint64_t>(c.at(1), "corrupted", line)};
  }
  if (json.contains("corrupted_from") && !json.at("corrupted_from").is_null()) {
    const Json& o = json.at("corrupted_from");
    const std::string side = o.at(0).get<std::string>();
    if (side != "client" && side != "server") unreadable(line, "unknown side in \"corrupted_from\"");
    step.corrupted_from = PatternOrigin{side == "client" ? Side::client : Side::server,
                                        integer<std::uint32_t>(o.at(1), "corrupted_from", line),
                                        integer<std::uint64_t>(o.at(2), "corrupted_from", line)};
  }
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
    step.monotonic = std::chrono::nanoseconds(integer<std::int64_t>(json.at("t_ns"), "t_ns", line));
    step.step = json.at("step").get<std::string>();
    step.outcome = json.at("outcome").get<std::string>();
    step.bytes = integer<std::uint64_t>(json.at("bytes"), "bytes", line);
    read_step_result(json, line, step);
    return step;
  } catch (const nlohmann::json::exception& e) {
    unreadable(line, e.what());
  }
}

}  // namespace lastack
