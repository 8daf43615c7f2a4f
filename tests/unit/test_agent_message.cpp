// The JSON lines a `lastack agent` process writes, and the run reads back.
#include <catch2/catch.hpp>

#include <cerrno>
#include <string>

#include "harness/core/record/agent_message.hpp"
#include "lastack/error.hpp"

using namespace lastack;
using namespace std::chrono_literals;

namespace {
/// The message HarnessError carries for `line`, or "(no error)".
std::string error_of(const std::string& line) {
  try {
    (void)parse_agent_message(line);
  } catch (const HarnessError& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST_CASE("a step message is one JSON line with t_ns, step, outcome and bytes", "[agent_message]") {
  const AgentMessage m = AgentStepMessage{1234567890123ns, "send 1000", "ok", 1000};
  CHECK(format_agent_message(m) ==
        "{\"t_ns\":1234567890123,\"step\":\"send 1000\",\"outcome\":\"ok\",\"bytes\":1000,\"result\":\"ok\","
        "\"errno\":0,\"verified\":false,\"corrupted\":null,\"corrupted_from\":null}\n");
}

TEST_CASE("ready and ports messages have their own one-key shapes", "[agent_message]") {
  CHECK(format_agent_message(AgentReadyMessage{}) == "{\"ready\":true}\n");
  CHECK(format_agent_message(AgentPortsMessage{40000, 8080}) == "{\"ports\":[40000,8080]}\n");
}

TEST_CASE("every message reads back as what was written", "[agent_message]") {
  for (const AgentMessage& m : {AgentMessage{AgentStepMessage{42ns, "recv-until-eof", "ECONNRESET", 7}},
                                AgentMessage{AgentReadyMessage{}}, AgentMessage{AgentPortsMessage{1, 65535}}}) {
    std::string line = format_agent_message(m);
    line.pop_back();  // the '\n'
    CHECK(parse_agent_message(line) == m);
  }
}

TEST_CASE("a line that is not a message is a harness error naming the line", "[agent_message]") {
  CHECK(error_of("garbage") == "agent process wrote an unreadable line (not a JSON object): garbage");
  CHECK(error_of("{\"ports\": [1, 70000]}") ==
        "agent process wrote an unreadable line (\"ports\" must be [local, remote]): {\"ports\": [1, 70000]}");
  CHECK(error_of("{\"ready\": false}").find("\"ready\" must be true") != std::string::npos);
  CHECK(error_of("{\"step\": \"close\", \"outcome\": \"ok\", \"bytes\": 0}").find("t_ns") != std::string::npos);
}

TEST_CASE("a step's typed result, errno and corrupted range read back, an older line still reads", "[agent_message]") {
  AgentStepMessage m{5ns, "recv 100", "ECONNRESET", 40};
  m.result = StepResult::error;
  m.error = ECONNRESET;
  m.verified = true;
  m.corrupted = ByteRange{10, 20};
  m.corrupted_from = PatternOrigin{Side::server, 0, 96};
  const std::string line = format_agent_message(m);
  CHECK(parse_agent_message(line.substr(0, line.size() - 1)) == AgentMessage{m});
  const auto old = parse_agent_message(R"({"t_ns":1,"step":"send 1","outcome":"ok","bytes":1})");
  CHECK(std::get<AgentStepMessage>(old).result == StepResult::ok);
  CHECK_FALSE(std::get<AgentStepMessage>(old).verified);
}

TEST_CASE("an integer field that is a float or out of range is a harness error, not a conversion", "[agent_message][fuzz]") {
  // fuzz_agent_message's first finding (crash-3eedb090...): a t_ns too long for any integer is
  // read by JSON as a float, and converting it to an integer was undefined behaviour.
  const std::string found = "{\"t_ns\":1237777777777777777777777777777777777777777777777777777777777777777777777777"
                            "7777777777777777774567890123,\"scorruptegggggggggd_from\":null}";
  CHECK(error_of(found).find("\"t_ns\" must be an integer from -9223372036854775808 to 9223372036854775807") !=
        std::string::npos);
  const std::string step = R"("step":"send 1","outcome":"ok")";
  for (const std::string& bad : {R"({"t_ns":1e300,)" + step + R"(,"bytes":1})",
                                 R"({"t_ns":1.5,)" + step + R"(,"bytes":1})",
                                 R"({"t_ns":1,)" + step + R"(,"bytes":-1})",
                                 R"({"t_ns":1,)" + step + R"(,"bytes":1,"errno":4294967296})",
                                 R"({"t_ns":1,)" + step + R"(,"bytes":1,"errno":-1e30})",
                                 R"({"t_ns":1,)" + step + R"(,"bytes":1,"corrupted":[0,1e20]})",
                                 R"({"t_ns":1,)" + step + R"(,"bytes":1,"corrupted_from":["client",4294967296,0]})"}) {
    INFO(bad);
    CHECK(error_of(bad).find("must be an integer from") != std::string::npos);
  }
}
