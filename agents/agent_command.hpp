#pragma once
// `lastack agent`: one side's steps as a process of its own, in whatever network namespace it
// was started in. `lastack run` starts it for steps an in-process agent cannot do (`exit`:
// the process dies with its socket open and the kernel closes it); it is usable by hand too.
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lastack/roles.hpp"

namespace lastack {

/// The parsed command line of `lastack agent`.
struct AgentCommand {
  Side side = Side::client;
  std::string address;              // server: where to listen; client: where to connect
  std::uint16_t port = 0;
  std::vector<std::string> steps;   // as a policy writes them: "connect", "send 1000", "exit"
  int events_fd = STDOUT_FILENO;    // where the JSON lines go (harness/core/record/agent_message.hpp)
};

/// Run the steps with an in-process Agent on its own io_context, writing {"ready": true} once a
/// server listens, {"ports": [local, remote]} once connected, and one line per finished step.
/// Returns 0 when every step had its expected outcome, 1 otherwise; `exit` ends the process
/// with 0 right after its line. Throws InputError for a bad step or address.
int command_agent(const AgentCommand& cmd);

}  // namespace lastack
