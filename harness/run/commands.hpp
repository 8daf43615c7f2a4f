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

namespace lastack {

struct RunCommand {
  std::vector<std::string> policies;  // names or files
  bool all = false;                   // every shipped policy
  std::filesystem::path policy_dir;
  std::optional<std::string> json;    // file, or directory (one .jsonl per run) when several runs
  std::optional<std::string> pcap;    // file, or directory (one .pcapng per run) when several runs
  bool ipv6 = false;
  Capture capture = Capture::selective;  // bulk data bypasses userspace unless a rule needs it
  unsigned repeat = 1;
  unsigned jobs = 1;                  // runs in parallel (each in its own process and lab)
  bool quiet = false;                 // no ladder; verdicts only for failures
  bool color = false;
};

/// Load every policy `cmd` names (all input errors surface here, before any lab is built).
std::vector<Policy> resolve_policies(const RunCommand& cmd);
/// `lastack run`: run each policy (repeat times), print ladder and verdicts, and a summary.
int command_run(const RunCommand& cmd, const std::vector<Policy>& policies);
/// `lastack list`: every shipped policy with its summary.
int command_list(const std::filesystem::path& policy_dir);
/// `lastack explain P`: what the policy shows and what to look for.
int command_explain(const std::string& policy, const std::filesystem::path& policy_dir);
/// `lastack check FILE...`: parse and validate only.
int command_check(const std::vector<std::string>& files, const std::filesystem::path& policy_dir);

}  // namespace lastack
