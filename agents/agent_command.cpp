#include "agents/agent_command.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string_view>

#include "agents/agent.hpp"
#include "harness/core/record/agent_message.hpp"
#include "lastack/error.hpp"
#include "lastack/policy_parser.hpp"
#include "lastack/asio.hpp"
#include "harness/sys/proc/fd.hpp"

namespace lastack {

namespace {

/// Unbuffered on purpose: a line must be out before `exit` ends the process.
void write_line(int fd, const AgentMessage& message) {
  const std::string line = format_agent_message(message);
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) sys::throw_errno("write an agent event line");
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::chrono::nanoseconds monotonic_now() {
  // libstdc++'s steady_clock is CLOCK_MONOTONIC: the clock the parent's RunClock reads.
  return std::chrono::steady_clock::now().time_since_epoch();
}

asio::ip::address parse_address(const std::string& text) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(text, ec);
  if (ec) throw InputError("--address \"" + text + "\": not an IPv4 or IPv6 address");
  return address;
}

}  // namespace

int command_agent(const AgentCommand& cmd) {
  AgentConfig config;
  config.side = cmd.side;
  for (std::size_t i = 0; i < cmd.steps.size(); ++i)
    config.steps.push_back(parse_agent_step(cmd.steps[i], "--step", i + 1));
  config.endpoint = {parse_address(cmd.address), cmd.port};
  // This process has no run clock: its steps are stamped with CLOCK_MONOTONIC itself (an Instant
  // whose epoch is the machine's boot), and the parent moves them onto the run's clock.
  config.now = [] { return Instant(monotonic_now()); };
  config.exit_process = [] { ::_exit(0); };  // no destructor, no close(): the kernel cleans up

  asio::io_context io;
  const Agent* agent = nullptr;
  bool ports_told = false;
  config.on_event = [&](const AppEvent& e) {
    if (!ports_told && agent->local_port() && agent->remote_port()) {
      ports_told = true;
      write_line(cmd.events_fd, AgentPortsMessage{*agent->local_port(), *agent->remote_port()});
    }
    const AgentStepFacts facts = e.agent_step() ? *e.agent_step() : AgentStepFacts{};
    write_line(cmd.events_fd, AgentStepMessage{e.at.time_since_epoch(), e.step, e.outcome, e.bytes, e.result, e.error,
                                               facts.verified, facts.corrupted, facts.corrupted_from});
  };
  Agent runner(io, std::move(config));
  agent = &runner;
  runner.prepare();
  if (cmd.side == Side::server) write_line(cmd.events_fd, AgentReadyMessage{});
  runner.start([] {});
  io.run();
  return static_cast<int>(runner.failed() ? ExitCode::check_failed : ExitCode::ok);
}

}  // namespace lastack
