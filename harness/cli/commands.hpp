#pragma once
// What each `lastack` subcommand does, once the command line is parsed (harness/cli/main.cpp).
// Each returns the process exit code (error.hpp: ExitCode) and prints its own output.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "lastack/policy.hpp"
#include "harness/core/decide/queue_rules.hpp"
#include "harness/core/base/shard.hpp"
#include "harness/cli/exec_command.hpp"  // lastack exec

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
  std::optional<std::uint64_t> seed;  // --seed: round R of each policy draws from seed + R - 1
  // Drawn once per command (from the OS) when no --seed is given and a policy that draws has no
  // random-seed of its own: every job of the command, forked or not, counts from it.
  std::optional<std::uint64_t> drawn_seed;
  // --link latency=50ms,...: a [link] laid over every policy run (replacing the policy's own).
  std::optional<std::string> link;
};

/// The seed of round `round` (1-based) of `policy` under `cmd`: the base (--seed, else the
/// policy's random-seed, else cmd.drawn_seed) plus round - 1; nullopt when the policy draws
/// nothing and no --seed was given.
std::optional<std::uint64_t> round_seed(const RunCommand& cmd, const Policy& policy, unsigned round);

/// Load every policy `cmd` names (all input errors surface here, before any lab is built), then
/// keep only `cmd.shard`'s share of them (possibly none).
std::vector<Policy> resolve_policies(const RunCommand& cmd);
/// `lastack run`: run each policy (repeat times), print ladder and verdicts, and a summary;
/// no policies (an empty shard) prints one line and returns 0.
int command_run(const RunCommand& cmd, const std::vector<Policy>& policies);
/// `lastack list`: every shipped policy with its summary.
int command_list(const std::filesystem::path& policy_dir);
/// `lastack list --names`: every shipped policy's name, one per line, sorted (bash completion
/// reads it, so it always offers the policies this binary would run).
int command_list_names(const std::filesystem::path& policy_dir);
/// `lastack explain P`: what the policy shows and what to look for.
int command_explain(const std::string& policy, const std::filesystem::path& policy_dir);
/// `lastack check FILE...`: parse and validate only.
int command_check(const std::vector<std::string>& files, const std::filesystem::path& policy_dir);

}  // namespace lastack
