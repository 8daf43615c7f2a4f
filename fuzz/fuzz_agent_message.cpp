// libFuzzer target: one line an agent process writes on its events descriptor ->
// AgentMessage (parse_agent_message) or HarnessError. A message that parses must format back
// to a line that parses to the same message (the agent writes what the run reads).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz/fuzz_support.hpp"
#include "harness/core/record/agent_message.hpp"
#include "lastack/error.hpp"

using namespace lastack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::optional<AgentMessage> message;
  fuzz::expect_only<HarnessError>([&] { message = parse_agent_message(fuzz::as_text(data, size)); });
  if (!message) return 0;
  // From here nothing may throw: a message the run accepted must format and read back.
  fuzz::expect_only<fuzz::Nothing>([&] {
    std::string line = format_agent_message(*message);
    fuzz::require(!line.empty() && line.back() == '\n', "a formatted message does not end its line");
    line.pop_back();
    fuzz::require(parse_agent_message(line) == *message, "a message does not read back as itself");
  });
  return 0;
}
