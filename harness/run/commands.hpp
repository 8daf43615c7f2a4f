#pragma once
// What each `lastack` subcommand does, once the command line is parsed (harness/cli/main.cpp).
// Each returns the process exit code (error.hpp: ExitCode) and prints its own output.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/policy.hpp"
#include "harness/core/queue_rules.hpp"
#include "harness/core/shard.hpp"

namespace lastack {

struct RunCommand {
  std::vector<std::string> policies;  // names or files
  bool all = false;                   // every shipped policy
  std::filesystem::path policy_dir;
  std::optional<std::string> json;    // file, or directory (one .jsonl per run) when several runs
  std::optional<std::string> pcap;    // file, or directory (one .pcapng per run) when several runs
  std::optional<std::string> html;    // page, or directory (a page per run and index.html): html_output.hpp
  bool ipv6 = false;
  Capture capture = Capture::all;  // every segment through one queue, in order; selective: bulk bypasses userspace
  unsigned repeat = 1;
  unsigned jobs = 1;                  // runs in parallel (each in its own process and lab)
  bool quiet = false;                 // no ladder; verdicts only for failures
  bool color = false;
  std::optional<Shard> shard;         // only this shard of the policy list (CI across machines)
  std::optional<std::string> junit;   // JUnit XML report of every run, for CI
};

/// `lastack exec`: the user's own server and client commands under a policy's faults.
struct ExecCommand {
  std::string policy;  // name or file
  std::filesystem::path policy_dir;
  std::string server, client;          // shell command lines, run as /bin/sh -c
  // --port, repeatable: the client starts once all listen. Empty: once any port listens, and
  // sockets on every port listening in the server namespace are observed.
  std::vector<std::uint16_t> ports;
  std::optional<std::string> timeout;  // "30s"; default: the policy's
  std::optional<std::string> json, pcap;
  std::optional<std::string> html;     // one page (a directory when the path ends in /)
  bool ipv6 = false;
  bool quiet = false;
  bool color = false;
};

/// The policy `cmd` runs, its port and timeout overridden (input errors surface here).
Policy resolve_exec_policy(const ExecCommand& cmd);
/// `lastack exec`: run the two commands in the lab; 0 when the client command exited 0 and
/// every check held, 1 otherwise (one line says which).
int command_exec(const ExecCommand& cmd, const Policy& policy);

/// Load every policy `cmd` names (all input errors surface here, before any lab is built), then
/// keep only `cmd.shard`'s share of them (possibly none).
std::vector<Policy> resolve_policies(const RunCommand& cmd);
/// `lastack run`: run each policy (repeat times), print ladder and verdicts, and a summary;
/// no policies (an empty shard) prints one line and returns 0.
int command_run(const RunCommand& cmd, const std::vector<Policy>& policies);
/// `lastack list`: every shipped policy with its summary.
int command_list(const std::filesystem::path& policy_dir);
/// `lastack explain P`: what the policy shows and what to look for.
int command_explain(const std::string& policy, const std::filesystem::path& policy_dir);
/// `lastack check FILE...`: parse and validate only.
int command_check(const std::vector<std::string>& files, const std::filesystem::path& policy_dir);

}  // namespace lastack
