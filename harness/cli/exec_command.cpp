// `lastack exec`: the user's own server and client under a policy's faults, judged like a run.
#include "harness/cli/exec_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "agents/agent.hpp"
#include "lastack/error.hpp"
#include "lastack/duration.hpp"
#include "harness/core/record/pcapng.hpp"
#include "harness/core/oracle/program_end.hpp"
#include "harness/core/trace/connection_scope.hpp"
#include "lastack/report.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "harness/cli/commands.hpp"
#include "harness/engine/exec_process.hpp"
#include "harness/cli/html_output.hpp"
#include "harness/engine/lab.hpp"
#include "lastack/policy_library.hpp"
#include "lastack/run.hpp"
#include "harness/engine/run_clock.hpp"
#include "harness/cli/run_outcome.hpp"
#include "lastack/trace_jsonl.hpp"
#include "harness/core/policy/policy_link.hpp"
#include "harness/sys/net/control_socket.hpp"

namespace lastack {

Policy resolve_exec_policy(const ExecCommand& cmd) {
  Policy policy = load_policy(cmd.policy, cmd.policy_dir);
  // LASTACK_SERVER_PORT: the first --port; without one the policy's port, a suggestion the
  // server may take (the client gets a port that listens: see exec_environment).
  if (!cmd.ports.empty()) policy.scenario.port = cmd.ports.front();
  if (cmd.link) policy.link = policy_toml::parse_link_spec(*cmd.link);
  if (cmd.timeout) {
    try {
      policy.scenario.timeout = parse_duration(*cmd.timeout);
    } catch (const InputError& e) {
      throw InputError(fmt::format("--timeout {}: {}", *cmd.timeout, e.what()));
    }
  }
  policy.scenario.finish_with = Side::client;  // the run ends (after settle) when the client command does
  policy.scenario.each_connection = true;      // written for one connection, it holds for each of theirs
  return policy;
}

namespace {
// A policy that claims the client's exit status (`check = "app"`, `exit = N`) replaces the
// built-in "exits 0": an expected failure (curl's 28 after every SYN is lost) is then a pass.
bool claims_client_exit(const Policy& policy) {
  return std::any_of(policy.expect.begin(), policy.expect.end(), [](const Expectation& e) {
    const auto* app = std::get_if<AppExpect>(&e);
    return app && app->side == SideRef(Side::client) && app->exit_status;
  });
}

std::string ports_text(const std::vector<std::uint16_t>& ports) {
  std::string out;
  for (std::uint16_t p : ports) out += (out.empty() ? "" : " ") + std::to_string(p);
  return out;
}

// LASTACK_SERVER_PORT(S) for a command. The server, before it runs: the --port values, else the
// policy's port as a suggestion. The client, at its start: the --port values, else the ports found
// listening (LASTACK_SERVER_PORT the suggested one if it listens, else the lowest).
std::vector<std::string> exec_port_environment(const std::vector<std::uint16_t>& given, std::uint16_t suggested,
                                               const std::vector<std::uint16_t>& listening) {
  std::vector<std::uint16_t> ports = given;
  if (ports.empty() && !listening.empty()) {
    ports = listening;
    const auto it = std::find(ports.begin(), ports.end(), suggested);
    if (it != ports.end()) std::rotate(ports.begin(), it, it + 1);
  }
  if (ports.empty()) ports = {suggested};
  return {"LASTACK_SERVER_PORT=" + std::to_string(ports.front()), "LASTACK_SERVER_PORTS=" + ports_text(ports)};
}

// With several connections, which ones each fault acted on: ": fault 1 hit connections 1, 3".
std::string hits_text(const Trace& trace) {
  const auto wires = wire_events(trace);
  const std::string hits = several_connections(wires) ? fault_connections_text(trace) : std::string();
  return hits.empty() ? "" : ": " + hits;
}

// "0.52 s", or "seed 7, 0.52 s" when the run drew.
std::string run_time(const RunResult& result) {
  const auto& seed = result.trace.random_seed;
  return fmt::format("{}{:.2f} s", seed ? fmt::format("seed {}, ", *seed) : "", seconds(result.wall));
}

// The verdict in one line, without the newline.
std::string exec_verdict_line(std::string_view verb, const Policy& policy, const RunResult& result, RunVerdict verdict,
                              std::size_t failed, const CheckResult& client_exit) {
  const std::string wall = run_time(result);
  if (verdict == RunVerdict::pass)
    return fmt::format("PASS {} under {}{} ({})", verb, policy.name, hits_text(result.trace), wall);
  if (verdict == RunVerdict::inconclusive) {
    std::string why;
    for (const std::string& r : unchecked_reasons(result.results)) why += (why.empty() ? "" : "; ") + r;
    return fmt::format("INCONCLUSIVE {} under {}: not checked: {} ({})", verb, policy.name, why, wall);
  }
  if (!client_exit.passed() && failed == 1)
    return fmt::format("FAIL {} under {}: the client command ended with {} ({})", verb, policy.name,
                       client_exit.saw, wall);
  return fmt::format("FAIL {} under {}: {} check{} failed{}{} ({})", verb, policy.name, failed,
                     failed == 1 ? "" : "s",
                     client_exit.passed() ? "" : fmt::format(", and the client command ended with {}", client_exit.saw),
                     hits_text(result.trace).empty() ? "" : " (" + hits_text(result.trace).substr(2) + ")", wall);
}

std::string exec_result_line(std::string_view verb, const Policy& policy, const RunResult& result, RunVerdict verdict,
                             std::size_t failed, const CheckResult& client_exit) {
  const std::string line = exec_verdict_line(verb, policy, result, verdict, failed, client_exit);
  const auto& seed = result.trace.random_seed;
  if (!seed || verdict == RunVerdict::pass) return line + "\n";
  return fmt::format("{}; replay: the same {} with --seed {}\n", line, verb, *seed);
}
}  // namespace

int command_exec(const ExecCommand& cmd, const Policy& given) {
  // `app` expectations stay: under exec they judge the commands' exit status and output, and
  // say "not checked" for what only lastack's own agents could report (expectations_app.cpp).
  const Policy& policy = given;
  RunOptions options;
  options.ipv6 = cmd.ipv6;
  options.ports = cmd.ports;
  options.listening_ports = cmd.ports.empty();
  options.seed = cmd.seed;  // unset: the policy's random-seed, else one from the OS (run_policy)
  // --control: the socket and its private directory live as long as the run, every attempt's.
  std::optional<sys::ControlSocket> control;
  if (cmd.control) control.emplace(sys::ControlSocket::open());
  options.control_fd = control ? control->fd() : -1;
  const std::string control_env = control ? "LASTACK_CONTROL=" + control->path() : std::string();
  // What the server's prepare() found listening, for the client's environment.
  auto listening = std::make_shared<std::vector<std::uint16_t>>();
  AgentFactory make_runner = [&cmd, listening, &control_env](AgentConfig config, const Lab& lab, asio::io_context& io,
                                               const RunClock& clock) {
    ExecConfig exec;
    exec.side = config.side;
    exec.command = cmd.commands[config.side];
    exec.ports = cmd.ports;
    exec.listening = listening;
    exec.family = lab.ipv6() ? IpFamily::v6 : IpFamily::v4;
    exec.environment = {"LASTACK_SIDE=" + std::string(side_name(config.side)),
                        "LASTACK_SERVER_ADDR=" + config.endpoint.address().to_string(),
                        "LASTACK_CLIENT_ADDR=" + lab.addresses().endpoint.client.str()};
    if (!control_env.empty()) exec.environment.push_back(control_env);
    exec.start_environment = [&cmd, listening, suggested = config.endpoint.port(), side = config.side] {
      return exec_port_environment(cmd.ports, suggested,
                                   side == Side::client ? *listening : std::vector<std::uint16_t>{});
    };
    exec.now = [&clock] { return clock.now(); };
    exec.on_event = std::move(config.on_event);
    return std::make_unique<ExecProcess>(io, std::move(exec), lab.side(config.side));
  };
  RunResult result = run_policy(policy, options, make_runner);
  CheckResult client_exit = check_command_exit(result.trace);
  if (claims_client_exit(policy))
    client_exit.outcome = Outcome::pass;  // judged by the policy's own `exit` check instead
  else
    result.results.push_back(client_exit);
  return report_command_run("exec", {cmd.json, cmd.pcap, cmd.html, cmd.quiet, cmd.color}, policy, result, client_exit);
}

int report_command_run(std::string_view verb, const CommandRunOutputs& outputs, const Policy& policy,
                       const RunResult& result, const CheckResult& client_exit) {
  const RunVerdict verdict = run_verdict(result.results);
  std::size_t failed = 0;
  for (const auto& r : result.results) failed += r.outcome == Outcome::fail ? 1 : 0;

  std::string text;
  if (!outputs.quiet || verdict != RunVerdict::pass) {
    text += fmt::format("== {} under {}: {}\n   ({})\n\n", verb, policy.name, policy.summary, shown_policy_file(policy));
    if (!outputs.quiet) text += render_ladder(result.trace, {outputs.color, 100}) + "\n";
    text += render_verdicts(result.results, outputs.color, observation_note(result.trace)) + "\n";
  }
  if (outputs.json) {
    auto out = open_output(*outputs.json, "JSON");
    write_jsonl(result.trace, result.results, out);
  }
  if (outputs.pcap) {
    auto out = open_output(*outputs.pcap, "pcapng");
    write_pcapng(result.trace, out);
  }
  if (outputs.html) write_html_run(*outputs.html, false, policy, 1, result.trace, result.results);
  for (const std::string& d : result.discarded_attempts) text += fmt::format("lastack: {}\n", d);
  text += exec_result_line(verb, policy, result, verdict, failed, client_exit);
  int code = verdict_exit_code(verdict);
  fail_on_harness_errors(result.trace, result.results, text, code);
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  return code;
}

}  // namespace lastack
