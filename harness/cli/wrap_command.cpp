// `lastack wrap`: one command, both ends of its connections in one namespace, judged as exec is.
#include "harness/cli/wrap_command.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "agents/agent.hpp"
#include "harness/cli/exec_command.hpp"
#include "harness/core/oracle/program_end.hpp"
#include "harness/core/policy/policy_link.hpp"
#include "harness/engine/exec_process.hpp"
#include "harness/engine/lab.hpp"
#include "harness/engine/run_clock.hpp"
#include "lastack/duration.hpp"
#include "lastack/error.hpp"
#include "lastack/policy_library.hpp"
#include "lastack/run.hpp"
#include "harness/sys/net/control_socket.hpp"

namespace lastack {

namespace {
// The server's place in the run: the command runs both ends, so nothing runs here, and the run
// ends when the command does (finish_with client).
class NoServer final : public AgentRunner {
 public:
  void prepare() override {}
  void start(std::function<void()>) override {}
  void stop() override {}
  bool done() const override { return false; }
  std::optional<std::uint16_t> local_port() const override { return std::nullopt; }
};

// One namespace holds both sides: a setting written for one side applies to the other too, so
// one written twice must agree.
void refuse_split_sysctls(const Policy& policy) {
  for (const auto& [key, value] : policy.scenario.sysctls.client) {
    const auto other = policy.scenario.sysctls.server.find(key);
    if (other == policy.scenario.sysctls.server.end() || other->second == value) continue;
    const auto line = policy.scenario.sysctl_lines.find(key);
    throw InputError(fmt::format("{}:{}: {} is {} for the client and {} for the server; under wrap both ends "
                                 "share one namespace",
                                 policy.file, line == policy.scenario.sysctl_lines.end() ? 0 : line->second, key,
                                 value, other->second));
  }
}

// What one namespace's loopback does not carry yet: copies (a fault's, the link's), never shown
// on loopback, though lastack's own segments are let by INPUT's queue (kInjectedMark) as a reset's
// RSTs are; and lab actions (a TIME_WAIT to destroy is named by its namespace).
void refuse_injection(const Policy& policy) {
  for (std::size_t i = 0; i < policy.faults.size(); ++i)
    if (policy.faults[i].action == ActionKind::duplicate)
      throw InputError(fmt::format("{}:{}: fault {}: duplicate is not supported under wrap (copies on loopback "
                                   "are not yet shown to cross as on a wire)",
                                   policy.file, policy.faults[i].line, i + 1));
  if (!policy.lab.empty())
    throw InputError(fmt::format("{}:{}: [[lab]] actions are not supported under wrap (one namespace holds both "
                                 "sides)",
                                 policy.file, policy.lab.front().line));
  const bool link_copies = policy.link && (policy.link->from[Side::client].duplicate > 0 ||
                                           policy.link->from[Side::server].duplicate > 0);
  if (link_copies)
    throw InputError(fmt::format("{}: the link's duplicate is not supported under wrap, as a duplicate fault is not",
                                 policy.link->line ? fmt::format("{}:{}", policy.file, policy.link->line)
                                                   : std::string("--link")));
}

// The command's exit status, when it ended by itself: wrap's exit code, not a verdict. After the
// run's timeout the status it had is lastack's SIGTERM, not the command's own.
std::optional<int> own_status(const CheckResult& ended) {
  const auto* seen = std::get_if<EndSeen>(&ended.finding.saw);
  if (!seen || seen->timed_out || !seen->ended || !seen->ended->command()) return std::nullopt;
  return seen->ended->command()->exit_status;
}
}  // namespace

std::string shell_command_line(const std::vector<std::string>& argv) {
  std::string line = "exec";
  for (const std::string& arg : argv) {
    line += " '";
    for (const char c : arg) line += c == '\'' ? std::string("'\\''") : std::string(1, c);
    line += "'";
  }
  return line;
}

int wrap_exit_code(int lastack_code, std::optional<int> command_status) {
  if (lastack_code == static_cast<int>(ExitCode::ok) && command_status) return *command_status;
  switch (static_cast<ExitCode>(lastack_code)) {
    case ExitCode::harness: return static_cast<int>(WrapExit::harness);
    case ExitCode::inconclusive: return static_cast<int>(WrapExit::inconclusive);
    default: return static_cast<int>(WrapExit::check_failed);
  }
}

Policy resolve_wrap_policy(const WrapCommand& cmd) {
  Policy policy = load_policy(cmd.policy, cmd.policy_dir);
  if (cmd.link) policy.link = policy_toml::parse_link_spec(*cmd.link);
  refuse_split_sysctls(policy);
  refuse_injection(policy);
  if (cmd.port) policy.scenario.port = *cmd.port;
  if (cmd.timeout) {
    try {
      policy.scenario.timeout = parse_duration(*cmd.timeout);
    } catch (const InputError& e) {
      throw InputError(fmt::format("--timeout {}: {}", *cmd.timeout, e.what()));
    }
  }
  policy.scenario.finish_with = Side::client;  // the run ends (after settle) when the command does
  policy.scenario.each_connection = true;      // written for one connection, it holds for each
  return policy;
}

int command_wrap(const WrapCommand& cmd, const Policy& policy) {
  RunOptions options;
  options.ipv6 = cmd.ipv6;
  options.loopback = true;
  if (cmd.port) options.ports = {*cmd.port};
  options.listening_ports = !cmd.port;  // every connection: each has its listener in the namespace
  options.seed = cmd.seed;
  std::optional<sys::ControlSocket> control;  // --control: lives as long as the run
  if (cmd.control) control.emplace(sys::ControlSocket::open());
  options.control_fd = control ? control->fd() : -1;
  const std::string control_env = control ? "LASTACK_CONTROL=" + control->path() : std::string();
  AgentFactory make_runner = [&cmd, &control_env](AgentConfig config, const Lab& lab, asio::io_context& io,
                                    const RunClock& clock) -> std::unique_ptr<AgentRunner> {
    if (config.side == Side::server) return std::make_unique<NoServer>();
    ExecConfig exec;
    exec.side = Side::client;
    exec.command = shell_command_line(cmd.command);
    exec.environment = {"LASTACK_WRAP=1"};
    if (cmd.port) exec.environment.push_back(fmt::format("LASTACK_PORT={}", *cmd.port));
    if (!control_env.empty()) exec.environment.push_back(control_env);
    exec.family = lab.ipv6() ? IpFamily::v6 : IpFamily::v4;
    exec.now = [&clock] { return clock.now(); };
    exec.on_event = std::move(config.on_event);
    exec.prefix = "| ";
    return std::make_unique<ExecProcess>(io, std::move(exec), lab.client());
  };
  RunResult result = run_policy(policy, options, make_runner);
  CheckResult ended = check_command_ended(result.trace);
  const std::optional<int> status = own_status(ended);
  result.results.push_back(ended);
  CheckResult shown = ended;  // the result line names how it ended only when it never did
  const int code = report_command_run("wrap", {cmd.json, cmd.pcap, cmd.html, cmd.quiet, cmd.color}, policy, result, shown);
  const int exit = wrap_exit_code(code, status);
  if (status && *status != 0 && code == 0)
    std::printf("lastack: every verdict held; the command exited %d, and so does wrap\n", *status);
  else if (code != 0)
    std::printf("lastack: wrap exits %d (%s)\n", exit,
                code == static_cast<int>(ExitCode::inconclusive) ? "inconclusive"
                : code == static_cast<int>(ExitCode::harness)    ? "harness error"
                                                                 : "a verdict failed");
  std::fflush(stdout);
  return exit;
}

}  // namespace lastack
