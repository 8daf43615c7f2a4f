// lastack: break TCP connections on purpose on a real kernel, and prove what the kernel did.
// Argument parsing only; the commands live in harness/cli/commands.hpp.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>

#include "agents/agent_command.hpp"
#include "lastack/error.hpp"
#include "harness/cli/commands.hpp"
#include "harness/cli/ctl_command.hpp"
#include "lastack/policy_library.hpp"
#include "harness/cli/lesson_command.hpp"
#include "harness/cli/replay_command.hpp"
#include "harness/cli/wrap_command.hpp"
#include "harness/sys/proc/priority.hpp"
#include "lastack/privilege.hpp"

#ifndef LASTACK_POLICY_DIR
#define LASTACK_POLICY_DIR ""
#endif
#ifndef LASTACK_POLICY_DIR_FROM_BIN
#define LASTACK_POLICY_DIR_FROM_BIN "../share/lastack/policies"
#endif
// From CMakeLists.txt's project(): one version for --version, the man page and the .deb.
#ifndef LASTACK_VERSION
#error "LASTACK_VERSION is the CMake project version (CMakeLists.txt)"
#endif

int main(int argc, char** argv) {
  using namespace lastack;
  CLI::App app{
      "lastack: break TCP connections on purpose, on a real Linux kernel, and prove what it did\n"
      "\n"
      "A policy (a TOML file; `lastack list` names the shipped ones) says which segments to drop,\n"
      "delay, hold or duplicate. Each run builds three network namespaces of its own (client, wire,\n"
      "server), runs a real TCP connection through them under the policy's faults, watches both\n"
      "kernels (BPF tracepoints, sock_diag, counters) and judges what they did against TCP's rules\n"
      "and the policy's expectations. It needs root, or unprivileged user namespaces.\n"};
  // The help is also the man page (help2man, packaging/make-man-page): a tag column wide enough
  // that every option fits it with two spaces to spare, and the exit codes as a tagged list.
  app.get_formatter()->column_width(32);
  app.footer(
      "Exit codes:\n"
      "  0  every expectation held\n"
      "  1  an expectation (or a built-in invariant) failed\n"
      "  2  bad input (a malformed policy, an unknown name)\n"
      "  3  environment (no privilege, a missing tool or sysctl)\n"
      "  4  the lab itself failed\n"
      "  5  inconclusive: nothing failed, but an expectation could not be checked (e.g. states\n"
      "     sampled every 2 ms missed a short one; the summary says which and why)");
  app.require_subcommand(1);
  app.set_version_flag("--version", "lastack " LASTACK_VERSION);
  std::string dir_option;
  app.add_option("--policy-dir", dir_option,
                 "Directory of shipped policies (default: $LASTACK_POLICY_DIR, else the ones installed "
                 "beside this binary, else the source tree's)");

  RunCommand run;
  std::string color = "auto";
  auto* run_cmd = app.add_subcommand("run", "Run policies (names or .toml files) and judge what the kernel did");
  run_cmd->add_option("policies", run.policies, "Policy names (see `lastack list`) or files");
  run_cmd->add_flag("--all", run.all, "Run every shipped policy");
  run_cmd->add_option("--json", run.json, "Write the trace as JSON Lines (a directory when several runs)");
  run_cmd->add_option("--pcap", run.pcap,
                      "Write the wire as pcapng, roles and verdicts in packet comments (a directory when several runs)");
  run_cmd->add_option("--html", run.html,
                      "Write a self-contained HTML page: the ladder as a diagram and the verdicts (a directory, "
                      "one page per run plus index.html, when several runs or the path ends in /)");
  run_cmd->add_flag("-6,--ipv6", run.ipv6, "Run over IPv6 (fd00::/8) instead of IPv4 (198.18.0.0/15)");
  run_cmd->add_option("--repeat", run.repeat, "Run each policy N times (run i draws from seed + i - 1)")
      ->check(CLI::Range(1u, 1000u));
  const char* seed_help =
      "The random seed probabilistic faults draw from (default: the policy's random-seed, else one from the OS, "
      "printed with the result); the same seed on the same wire drops the same segments";
  // CLI11 would wrap "-1" to 2^64 - 1: a seed is refused unless written as a plain whole number.
  const CLI::Validator whole_seed(
      [](const std::string& text) {
        return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos
                   ? std::string{}
                   : "must be a whole number from 0 to 18446744073709551615, not \"" + text + "\"";
      },
      "SEED");
  run_cmd->add_option("--seed", run.seed, seed_help)->check(whole_seed);
  const char* link_help =
      "Lay a [link] over every policy (replacing its own): key=value,... of latency, jitter, reorder, rate, queue, "
      "loss, duplicate, e.g. latency=50ms,jitter=10ms or rate=8mbit,queue=64kb";
  run_cmd->add_option("--link", run.link, link_help);
  run_cmd->add_option("-j,--jobs", run.jobs, "Run up to N policies at once, each in its own process and lab")
      ->check(CLI::Range(1u, 64u));
  run_cmd->add_flag("-q,--quiet", run.quiet, "No ladder; details only for failures");
  // A string, not CLI11's enum transformer: that prints Capture's uint8_t values as raw bytes
  // (a NUL in the help text and in the error for a bad value).
  std::string capture = "all";
  run_cmd->add_option("--capture", capture, "Which segments to queue: all (default: every segment, in order) or selective (only what a rule could select: faster, but a queued segment can be overtaken by an unqueued one, which the run reports as a harness error)")
      ->check(CLI::IsMember({"all", "selective"}));
  std::string shard;
  run_cmd->add_option("--shard", shard, "Run only shard I of N (I/N): the policies at positions I, I+N, ... (CI across machines)");
  run_cmd->add_option("--junit", run.junit, "Write a JUnit XML report of every run (for CI)");
  const auto add_color = [&color](CLI::App* cmd) {
    cmd->add_option("--color", color, "auto (colour when stdout is a terminal), always or never")
        ->check(CLI::IsMember({"auto", "always", "never"}));
  };
  add_color(run_cmd);
  const auto use_color = [&color] { return color == "always" || (color == "auto" && ::isatty(STDOUT_FILENO)); };

  auto* list_cmd = app.add_subcommand("list", "List the shipped policies");
  bool list_names = false;
  list_cmd->add_flag("--names", list_names, "Only the names, one per line (for shell completion and scripts)");
  std::string explain_policy;
  auto* explain_cmd = app.add_subcommand("explain", "Explain what a policy shows and what to look for");
  explain_cmd->add_option("policy", explain_policy, "Policy name or file")->required();
  std::vector<std::string> check_files;
  auto* check_cmd = app.add_subcommand("check", "Validate policy files without running them");
  check_cmd->add_option("files", check_files, "Policy files or names")->required();

  ExecCommand exec;
  auto* exec_cmd = app.add_subcommand(
      "exec", "Run your own server and client commands in the lab, under a policy's faults and checks");
  exec_cmd->add_option("--policy", exec.policy, "Policy name or file: its faults, lab actions, sysctls and checks")
      ->required();
  exec_cmd->add_option("--server", exec.commands.server, "Server command (/bin/sh -c, in the server namespace); started first")
      ->required();
  exec_cmd->add_option("--client", exec.commands.client,
                       "Client command (/bin/sh -c, in the client namespace); started once the server listens, "
                       "and the run ends when it exits")
      ->required();
  exec_cmd->add_option("--port", exec.ports,
                       "A port the server listens on; repeat for several. The client starts once all listen. "
                       "Default: once any port listens, and every port listening in the server namespace is observed")
      ->check(CLI::Range(1, 65535));
  exec_cmd->add_option("--seed", exec.seed, seed_help)->check(whole_seed);
  exec_cmd->add_option("--link", exec.link, link_help);
  const char* control_help =
      "Open a control socket for the run and pass its path in LASTACK_CONTROL: a test adds and removes faults, "
      "sets the link and marks the trace while it runs (`lastack ctl`)";
  exec_cmd->add_flag("--control", exec.control, control_help);
  exec_cmd->add_flag("-6,--ipv6", exec.ipv6, "Run over IPv6 (fd00::/8) instead of IPv4 (198.18.0.0/15)");
  exec_cmd->add_option("--json", exec.json, "Write the trace as JSON Lines");
  exec_cmd->add_option("--pcap", exec.pcap, "Write the wire as pcapng, roles and verdicts in packet comments");
  exec_cmd->add_option("--html", exec.html,
                       "Write a self-contained HTML page: the ladder as a diagram and the verdicts (into a "
                       "directory, as <policy>.html, when the path ends in /)");
  exec_cmd->add_option("--timeout", exec.timeout, "Give up on the run after this (e.g. 30s; default: the policy's)");
  exec_cmd->add_flag("-q,--quiet", exec.quiet, "No ladder; details only for failures");
  add_color(exec_cmd);
  exec_cmd->footer(
      "Both commands get LASTACK_SIDE, LASTACK_SERVER_ADDR, LASTACK_SERVER_PORT(S) and LASTACK_CLIENT_ADDR;\n"
      "their output is relayed prefixed \"server| \" / \"client| \". At the end the server's process group gets\n"
      "SIGTERM, then SIGKILL after 1 s. Exit 0 when the client command exited 0 and every check held. E.g.\n"
      "  lastack exec --policy drop-final-ack \\\n"
      "    --server 'lastack agent --side server --address $LASTACK_SERVER_ADDR --port $LASTACK_SERVER_PORT \\\n"
      "              --step accept --step recv-until-eof --step close' \\\n"
      "    --client 'lastack agent --side client --address $LASTACK_SERVER_ADDR --port $LASTACK_SERVER_PORT \\\n"
      "              --step connect --step \"send 1000\" --step close'");

  WrapCommand wrap;
  auto* wrap_cmd = app.add_subcommand(
      "wrap", "Run one unmodified command (a test suite with its own server on 127.0.0.1) in a lab namespace whose "
              "loopback carries a policy's faults");
  wrap_cmd->add_option("--policy", wrap.policy, "Policy name or file: its faults, sysctls and checks")->required();
  wrap_cmd->add_option("--port", wrap.port,
                       "Only connections to or from this port are faulted and judged (default: every TCP connection)")
      ->check(CLI::Range(1, 65535));
  wrap_cmd->add_option("--seed", wrap.seed, seed_help)->check(whole_seed);
  wrap_cmd->add_flag("--control", wrap.control, control_help);
  wrap_cmd->add_option("--link", wrap.link, link_help);
  wrap_cmd->add_flag("-6,--ipv6", wrap.ipv6, "Observe IPv6 (::1) sockets instead of IPv4 (127.0.0.1)");
  wrap_cmd->add_option("--json", wrap.json, "Write the trace as JSON Lines");
  wrap_cmd->add_option("--pcap", wrap.pcap, "Write the wire as pcapng, roles and verdicts in packet comments");
  wrap_cmd->add_option("--html", wrap.html, "Write a self-contained HTML page (a directory when the path ends in /)");
  wrap_cmd->add_option("--timeout", wrap.timeout, "Give up on the run after this (e.g. 60s; default: the policy's)");
  wrap_cmd->add_flag("-q,--quiet", wrap.quiet, "No ladder; details only for failures");
  wrap_cmd->add_option("command", wrap.command, "The command and its arguments, after --")->required()->take_all();
  add_color(wrap_cmd);
  wrap_cmd->footer(
      "The command runs as is in a new network namespace (lo only, MTU 1500); the side that sends a\n"
      "connection's SYN is its client. Its output is relayed prefixed \"| \"; everything it started ends\n"
      "with the run. Exit: the command's status when every verdict holds; 111 when a verdict failed,\n"
      "114 on a harness error, 115 when inconclusive; 2 for bad input. E.g.\n"
      "  lastack wrap --policy drop-syn --port 8765 -- python3 -m pytest -q tests/");

  ReplayCommand replay;
  auto* replay_cmd = app.add_subcommand(
      "replay", "Judge a recorded trace (`run --json`) again: re-parse its segments, re-run the checks");
  replay_cmd->add_option("trace", replay.file, "A JSON Lines trace file")->required();
  replay_cmd->add_option("--policy", replay.policy, "Policy name or file (default: the one the trace names)");
  replay_cmd->add_flag("-q,--quiet", replay.quiet, "No ladder");
  add_color(replay_cmd);

  CtlCommand ctl;
  auto* ctl_cmd = app.add_subcommand(
      "ctl", "Change a running `exec --control` or `wrap --control` run from a test: add or remove a fault, set the "
             "link, mark the trace, ask its status");
  ctl_cmd->add_option("--control", ctl.control, "The control socket (default: $LASTACK_CONTROL, which the run sets)");
  ctl_cmd->add_flag("--json", ctl.json, "Print the run's reply line as it came (JSON) instead of its message");
  ctl_cmd->add_option("request", ctl.words, "fault add KEY=VALUE... | fault remove ID | link set [KEY=VALUE...] | "
                                            "mark TEXT | status")
      ->required()
      ->take_all();
  ctl_cmd->footer(
      "A fault takes a [[fault]] table's keys (dotted for its tables: until.segment=fin, window.for=3s), a link\n"
      "the [link] table's (server-to-client.loss=0.1 for one direction; none: a plain wire). Each change is a\n"
      "line in the trace at its time. One request per call; the reply's message is printed. E.g.\n"
      "  id=$(lastack ctl fault add segment=data from=server action=drop | awk '{print $2}')  # \"fault 3 added: ...\"\n"
      "  lastack ctl mark \"retry starts\"; lastack ctl fault remove $id; lastack ctl status\n"
      "Exit codes: 0 applied; 1 refused by the run (the message says why); 2 not a request;\n"
      "3 no control socket (LASTACK_CONTROL unset, nothing listening, the run ended)");

  LessonCommand lesson;
  auto* lesson_cmd = app.add_subcommand(
      "lesson", "Run the policies behind each claim of a lesson (default: the seed texts') and write a site a teacher "
                "can project: an index of the claims and their verdicts, a step-through page per claim and per "
                "question, each run's pcapng (needs root: states come from the kernel's tracepoints)");
  lesson_cmd->add_option("dir", lesson.dir, "Directory to write the site into (created)")->required();
  lesson_cmd->add_option("--lesson", lesson.lesson,
                         "The lesson file (default: lessons/seed-texts.toml beside the policy directory)");
  lesson_cmd->add_flag("-6,--ipv6", lesson.ipv6, "Run over IPv6 (fd00::/8) instead of IPv4 (198.18.0.0/15)");
  lesson_cmd->footer(
      "Progress goes to stderr, one line per run. Exit: 0 when every run passed, else as `lastack run`\n"
      "(1 a check failed, 4 the lab failed, 5 inconclusive); 2 for a bad lesson file (file:line: what);\n"
      "3 without root (states would only be sampled, so nothing on the pages would be the kernel's word).");

  AgentCommand agent;
  auto* agent_cmd = app.add_subcommand(
      "agent", "Run one side's steps as this process, in the current network namespace, printing one JSON line per step");
  std::string agent_side;
  agent_cmd->add_option("--side", agent_side, "client or server")->required()->check(CLI::IsMember({"client", "server"}));
  agent_cmd->add_option("--address", agent.address, "Server: address to listen on; client: address to connect to")->required();
  agent_cmd->add_option("--port", agent.port, "TCP port")->required()->check(CLI::Range(1, 65535));
  agent_cmd->add_option("--step", agent.steps,
                        "One step, as a policy writes it; repeat in order (connect, accept, send N, recv N, "
                        "recv-until-eof, shutdown-write, close, abort, sleep D, exit)")
      ->required()
      ->take_all();
  agent_cmd->add_option("--events-fd", agent.events_fd, "Write the JSON lines to this descriptor (default 1: stdout)")
      ->check(CLI::NonNegativeNumber);
  agent_cmd->footer(
      "Lines: {\"ready\": true} once a server listens, {\"ports\": [local, remote]} once connected,\n"
      "and {\"t_ns\": CLOCK_MONOTONIC ns, \"step\", \"outcome\", \"bytes\"} per finished step.\n"
      "`exit` ends the process with its socket open: the kernel closes it (RST if unread data).\n"
      "Exit code 0 when every step went as meant, 1 otherwise. No privilege needed; e.g.\n"
      "  lastack agent --side server --address 127.0.0.1 --port 8080 --step accept --step recv-until-eof --step close &\n"
      "  lastack agent --side client --address 127.0.0.1 --port 8080 --step connect --step 'send 1000' --step exit");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(ExitCode::bad_input);
  }

  try {
    // Before anything else: ctl and an agent need neither policies nor privileges.
    if (*ctl_cmd) return command_ctl(ctl);
    if (*agent_cmd) {
      agent.side = agent_side == "server" ? Side::server : Side::client;
      return command_agent(agent);
    }
    // Installed, the binary reads the policies installed beside it; in the build tree, the
    // source tree's (LASTACK_POLICY_DIR). $LASTACK_POLICY_DIR and --policy-dir override both.
    const auto installed = installed_policy_dir(LASTACK_POLICY_DIR_FROM_BIN);
    const auto dir = !dir_option.empty() ? std::filesystem::path(dir_option)
                                         : policy_dir(installed.empty() ? LASTACK_POLICY_DIR : installed);
    run.policy_dir = dir;
    if (*list_cmd) return list_names ? command_list_names(dir) : command_list(dir);
    if (*explain_cmd) return command_explain(explain_policy, dir);
    if (*check_cmd) return command_check(check_files, dir);
    if (*replay_cmd) {
      replay.policy_dir = dir;
      replay.color = use_color();
      return command_replay(replay);
    }
    if (*lesson_cmd) {
      lesson.policy_dir = dir;
      // Bad input before any lab: the lesson file and every policy it names.
      const PreparedLesson prepared = prepare_lesson(lesson);
      sys::enter_lab_privileges();
      sys::raise_harness_priority();
      return command_lesson(lesson, prepared);
    }
    // exec and wrap: the policy first (bad input before any lab is made), then lab privileges.
    const auto lab_command = [&](auto& cmd, const auto& resolve, const auto& command) {
      cmd.policy_dir = dir;
      cmd.color = use_color();
      Policy policy = resolve(cmd);
      sys::enter_lab_privileges();  // before any thread exists, as for run
      sys::raise_harness_priority();
      return command(cmd, policy);
    };
    if (*exec_cmd) return lab_command(exec, resolve_exec_policy, command_exec);
    if (*wrap_cmd) return lab_command(wrap, resolve_wrap_policy, command_wrap);
    if (*run_cmd) {
      run.color = use_color();
      run.capture = capture == "selective" ? Capture::selective : Capture::all;
      if (!shard.empty()) run.shard = parse_shard(shard);
      auto policies = resolve_policies(run);
      // Before any thread exists: unshare(CLONE_NEWUSER) refuses multi-threaded callers.
      // An empty shard runs no lab, so it needs no privilege.
      if (!policies.empty()) sys::enter_lab_privileges();
      sys::raise_harness_priority();
      return command_run(run, policies);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "lastack: %s\n", e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lastack: internal error: %s\n", e.what());
    return static_cast<int>(ExitCode::harness);
  }
  return 0;
}
