// `lastack run` (serially or in forked jobs), `list`, `explain` and `check`. Rendering one run
// is run_outcome.cpp; `lastack exec` is exec_command.cpp.
#include "harness/cli/commands.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "lastack/error.hpp"
#include "harness/core/decide/decision.hpp"
#include "harness/core/oracle/per_connection.hpp"
#include "harness/core/report/policy_text.hpp"
#include "harness/cli/forked_jobs.hpp"
#include "harness/cli/html_output.hpp"
#include "lastack/policy_library.hpp"
#include "harness/cli/run_outcome.hpp"
#include "harness/engine/run_seed.hpp"
#include "harness/core/policy/policy_link.hpp"

namespace lastack {

namespace fs = std::filesystem;

std::vector<Policy> resolve_policies(const RunCommand& cmd) {
  std::vector<Policy> policies;
  if (cmd.all) policies = load_all_policies(cmd.policy_dir);
  for (const auto& p : cmd.policies) policies.push_back(load_policy(p, cmd.policy_dir));
  if (policies.empty()) throw InputError("no policy given (try `lastack list`, or `lastack run --all`)");
  if (cmd.link) {
    const Link link = policy_toml::parse_link_spec(*cmd.link);
    for (Policy& p : policies) p.link = link;
  }
  if (!cmd.shard) return policies;
  std::vector<Policy> kept;
  for (std::size_t i : shard_indices(policies.size(), *cmd.shard)) kept.push_back(std::move(policies[i]));
  return kept;
}

std::optional<std::uint64_t> round_seed(const RunCommand& cmd, const Policy& policy, unsigned round) {
  std::optional<std::uint64_t> base = cmd.seed;
  if (!base && draws_at_random(policy)) base = policy.scenario.random_seed ? policy.scenario.random_seed : cmd.drawn_seed;
  if (!base) return std::nullopt;
  return *base + (round - 1);  // --repeat: consecutive seeds, each printed with its run
}

namespace {

struct Job {
  const Policy* policy;
  unsigned round;
};

// What command_run collects over its runs.
struct Batch {
  const RunCommand& cmd;
  std::vector<Job> runs;
  std::vector<Row> rows;
  std::vector<JUnitCase> cases;
  std::vector<HtmlRunRow> html_runs;
  int code = static_cast<int>(ExitCode::ok);
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  bool several() const { return runs.size() > 1; }
  double elapsed() const { return seconds(std::chrono::steady_clock::now() - started); }
  void record(const RunOutcome& outcome) {
    rows.push_back(outcome.row);
    if (cmd.junit) cases.push_back(junit_case(outcome));
    if (cmd.html) html_runs.push_back({outcome.row.policy, outcome.row.round, outcome.row.checks, outcome.reported});
    code = combine_exit_codes(code, outcome.exit_code);
  }
  // Progress on stderr: for every run of a batch, and for a lone run when someone is watching
  // (syn-timeout, say, takes 7 s of real backoff before it prints anything).
  void announce(std::size_t i) const {
    if (several())
      std::fprintf(stderr, "[%zu/%zu] %s ...\n", i + 1, runs.size(), runs[i].policy->name.c_str());
    else if (::isatty(STDERR_FILENO))
      std::fprintf(stderr, "running %s (gives up after %.0f s) ...\n", runs[i].policy->name.c_str(),
                   std::chrono::duration<double>(runs[i].policy->scenario.timeout).count());
  }
};

void run_serially(Batch& b) {
  for (std::size_t i = 0; i < b.runs.size(); ++i) {
    b.announce(i);
    RunOutcome outcome;
    try {
      outcome = execute(b.cmd, *b.runs[i].policy, b.runs[i].round, b.several());
    } catch (const std::exception& e) {
      // The error still ends the command (main reports it); CI gets the report up to here.
      if (b.cmd.junit) {
        const auto* error = dynamic_cast<const Error*>(&e);
        const int code = static_cast<int>(error ? error->code() : ExitCode::harness);
        RunOutcome failed{{b.runs[i].policy->name, b.runs[i].round}, {}, "", fmt::format("lastack: {}\n", e.what()), code};
        b.cases.push_back(junit_case(failed));
        write_junit(*b.cmd.junit, b.cases, b.elapsed());
      }
      throw;
    }
    std::fputs(outcome.text.c_str(), stdout);
    std::fflush(stdout);
    b.record(outcome);
  }
}

void run_in_parallel(Batch& b) {
  run_forked(
      b.runs.size(), b.cmd.jobs,
      [&](std::size_t i) {
        RunOutcome outcome = execute(b.cmd, *b.runs[i].policy, b.runs[i].round, b.several());
        return JobOutput{outcome.exit_code, encode_outcome(outcome)};
      },
      [&](std::size_t i) { b.announce(i); },
      [&](std::size_t i, const JobOutput& out) {
        RunOutcome outcome = decode_outcome(out, *b.runs[i].policy, b.runs[i].round);
        const bool error = out.exit_code > 1 && out.exit_code != static_cast<int>(ExitCode::inconclusive);
        std::fputs(outcome.text.c_str(), error && out.text.rfind("row ", 0) != 0 ? stderr : stdout);
        std::fflush(stdout);
        b.record(outcome);
      });
}

}  // namespace

int command_run(const RunCommand& cmd, const std::vector<Policy>& policies) {
  if (policies.empty()) {  // an empty shard: more shards than policies
    if (cmd.shard) fmt::print("shard {}/{}: no policies\n", cmd.shard->index, cmd.shard->count);
    if (cmd.junit) write_junit(*cmd.junit, {}, 0.0);
    return static_cast<int>(ExitCode::ok);
  }
  RunCommand seeded = cmd;
  const bool needs_draw = std::any_of(policies.begin(), policies.end(), [](const Policy& p) {
    return draws_at_random(p) && !p.scenario.random_seed;
  });
  if (!cmd.seed && needs_draw) seeded.drawn_seed = seed_from_os();
  Batch b{seeded, {}, {}, {}, {}};
  for (unsigned round = 1; round <= cmd.repeat; ++round)
    for (const auto& policy : policies) b.runs.push_back({&policy, round});
  if (cmd.jobs <= 1 || !b.several())
    run_serially(b);
  else
    run_in_parallel(b);
  const double total = b.elapsed();
  if (cmd.junit) write_junit(*cmd.junit, b.cases, total);
  if (cmd.html) write_html_index(*cmd.html, b.several(), b.html_runs);
  if (b.several()) print_summary(b.rows, total);
  return b.code;
}

int command_list(const fs::path& policy_dir) {
  auto policies = load_all_policies(policy_dir);
  std::size_t width = 0;
  for (const auto& p : policies) width = std::max(width, p.name.size());
  for (const auto& p : policies)
    fmt::print("{:<{}}  {}{}\n", p.name, width, p.summary,
               agent_behaviours(p).empty() ? "" : " [lastack's agents only]");
  fmt::print("\nEvery policy runs with `lastack run`; all but those marked [lastack's agents only] also suit your\n"
             "own programs under `lastack exec` (the marked ones describe what lastack's agents do).\n");
  return 0;
}

int command_list_names(const fs::path& policy_dir) {
  for (const auto& p : load_all_policies(policy_dir)) fmt::print("{}\n", p.name);
  return 0;
}

int command_explain(const std::string& name, const fs::path& policy_dir) {
  Policy p = load_policy(name, policy_dir);
  fmt::print("{}: {}\n", p.name, p.summary);
  if (!p.explanation.empty()) fmt::print("\n{}\n", p.explanation);
  if (!p.seed.empty()) fmt::print("\nSeed claim: {}\n", p.seed);
  auto steps = [](const std::vector<Step>& s) {
    std::string out;
    for (const auto& step : s) out += (out.empty() ? "" : ", ") + step.text;
    return out;
  };
  fmt::print("\nClient: {}\nServer: {}\n", steps(p.scenario.steps.client), steps(p.scenario.steps.server));
  for (const auto& [k, v] : p.scenario.sysctls.client) fmt::print("client sysctl {} = {}\n", k, v);
  for (const auto& [k, v] : p.scenario.sysctls.server) fmt::print("server sysctl {} = {}\n", k, v);
  const bool link = p.link && p.link->active();
  if (!p.faults.empty() || !p.lab.empty() || link) fmt::print("\nOn the wire:\n");
  if (link)
    for (const Side s : {Side::client, Side::server})
      fmt::print("  link {}: {}\n", s == Side::client ? "client-to-server" : "server-to-client",
                 describe_link(p.link->from[s]));
  for (std::size_t i = 0; i < p.faults.size(); ++i) fmt::print("  fault {}: {}\n", i + 1, describe_fault(p.faults[i]));
  for (std::size_t i = 0; i < p.lab.size(); ++i) fmt::print("  lab {}: {}\n", i + 1, describe_lab_action(p.lab[i]));
  fmt::print("\nWhat to look for (checked on every run, with the built-in TCP invariants):\n");
  // A check's name depends only on the expectation (and the connection it names), so an empty trace yields it.
  for (const auto& r : check_expectations(Trace{}, p.expect)) fmt::print("  - {}\n", r.name);
  if (const auto own = agent_behaviours(p); own.empty())
    fmt::print("\nUnder lastack exec: suits your own programs (its checks of lastack's agents do not apply there).\n");
  else
    fmt::print("\nUnder lastack exec: describes what lastack's agents do ({}); your programs would have to do "
               "the same.\n", fmt::join(own, ", "));
  fmt::print("\nFile: {}\n", p.file);
  return 0;
}

int command_check(const std::vector<std::string>& files, const fs::path& policy_dir) {
  for (const auto& f : files) {
    Policy p = load_policy(f, policy_dir);
    fmt::print("{}: ok ({}: {} fault{}, {} expectation{})\n", p.file, p.name, p.faults.size(),
               p.faults.size() == 1 ? "" : "s", p.expect.size(), p.expect.size() == 1 ? "" : "s");
  }
  return 0;
}

}  // namespace lastack
