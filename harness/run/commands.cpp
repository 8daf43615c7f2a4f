#include "harness/run/commands.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "harness/core/error.hpp"
#include "harness/core/pcapng.hpp"
#include "harness/core/report.hpp"
#include "harness/run/forked_jobs.hpp"
#include "harness/run/policy_library.hpp"
#include "harness/run/run.hpp"

namespace lastack {

namespace fs = std::filesystem;

namespace {
double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// `base` is the file for a single run, or a directory (one file per run, named after the policy).
fs::path output_path(const std::string& base, const std::string& policy, unsigned round, bool several,
                     std::string_view extension) {
  if (!several && !(base.ends_with("/") || fs::is_directory(base))) return base;
  fs::create_directories(base);
  return fs::path(base) / (round > 1 ? fmt::format("{}.{}.{}", policy, round, extension)
                                     : fmt::format("{}.{}", policy, extension));
}

// Opens `path` for a trace file, or says in one line why it cannot.
std::ofstream open_output(const fs::path& path, std::string_view what) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw InputError(fmt::format("{}: cannot write the {} trace", path.string(), what));
  return out;
}

struct Row {
  std::string policy;
  unsigned round;
  bool passed;
  std::size_t checks, failed;
  double wall;
};

void print_summary(const std::vector<Row>& rows, double total) {
  std::size_t width = 6;
  for (const auto& r : rows) width = std::max(width, r.policy.size() + (r.round > 1 ? 3 : 0));
  fmt::print("\n{:<{}}  {:<6}  {:>6}  {:>7}\n", "policy", width, "result", "checks", "time");
  std::size_t failed = 0;
  for (const auto& r : rows) {
    failed += r.passed ? 0 : 1;
    std::string name = r.round > 1 ? fmt::format("{} #{}", r.policy, r.round) : r.policy;
    fmt::print("{:<{}}  {:<6}  {:>6}  {:>6.2f}s\n", name, width, r.passed ? "PASS" : "FAIL",
               fmt::format("{}/{}", r.checks - r.failed, r.checks), r.wall);
  }
  fmt::print("{} run{}: {} passed, {} failed ({:.1f} s)\n", rows.size(), rows.size() == 1 ? "" : "s",
             rows.size() - failed, failed, total);
}
}  // namespace

std::vector<Policy> resolve_policies(const RunCommand& cmd) {
  std::vector<Policy> policies;
  if (cmd.all) policies = load_all_policies(cmd.policy_dir);
  for (const auto& p : cmd.policies) policies.push_back(load_policy(p, cmd.policy_dir));
  if (policies.empty()) throw InputError("no policy given (try `lastack list`, or `lastack run --all`)");
  return policies;
}

namespace {
struct RunOutcome {
  Row row;
  std::string text;  // what the run prints: ladder, verdicts, result line
  int exit_code = 0;
};

// One run of one policy, rendered; also writes its JSON trace when asked.
RunOutcome execute(const RunCommand& cmd, const Policy& policy, unsigned round, bool several) {
  RunOptions options;
  options.ipv6 = cmd.ipv6;
  options.capture = cmd.capture;
  RunResult result = run_policy(policy, options);
  std::size_t failed = 0;
  for (const auto& r : result.results) failed += r.passed ? 0 : 1;
  std::string text;
  if (!cmd.quiet || !result.passed) {
    text += fmt::format("== {}: {}\n   ({})\n\n", policy.name, policy.summary, policy.file);
    if (!cmd.quiet) text += render_ladder(result.trace, {cmd.color, 100}) + "\n";
    text += render_verdicts(result.results, cmd.color) + "\n";
  }
  if (cmd.json) {
    auto out = open_output(output_path(*cmd.json, policy.name, round, several, "jsonl"), "JSON");
    write_jsonl(result.trace, result.results, out);
  }
  if (cmd.pcap) {
    auto out = open_output(output_path(*cmd.pcap, policy.name, round, several, "pcapng"), "pcapng");
    write_pcapng(result.trace, out);
  }
  text += fmt::format("{} {} ({:.2f} s)\n", result.passed ? "PASS" : "FAIL", policy.name, seconds(result.wall));
  int code = static_cast<int>(result.passed ? ExitCode::ok : ExitCode::check_failed);
  // Fail closed: segments the kernel could not queue were never judged, so the run proves nothing.
  if (result.trace.queue_drops > 0) {
    text += fmt::format("lastack: harness error: the kernel dropped {} queued segment{} (NFQUEUE overflow)\n",
                        result.trace.queue_drops, result.trace.queue_drops == 1 ? "" : "s");
    code = static_cast<int>(ExitCode::harness);
  }
  return {{policy.name, round, result.passed, result.results.size(), failed, seconds(result.wall)}, text, code};
}

// A forked run sends its row ahead of its text: "row <passed> <checks> <failed> <wall>\n".
std::string encode_row(const Row& r) {
  return fmt::format("row {} {} {} {}\n", r.passed ? 1 : 0, r.checks, r.failed, r.wall);
}

Row decode_row(std::string& text, const Policy& policy, unsigned round) {
  Row row{policy.name, round, false, 0, 0, 0.0};
  if (text.rfind("row ", 0) != 0) return row;  // the run died before reporting
  const auto eol = text.find('\n');
  int passed = 0;
  std::sscanf(text.c_str(), "row %d %zu %zu %lf", &passed, &row.checks, &row.failed, &row.wall);
  row.passed = passed == 1;
  text.erase(0, eol + 1);
  return row;
}
}  // namespace

int command_run(const RunCommand& cmd, const std::vector<Policy>& policies) {
  struct Job {
    const Policy* policy;
    unsigned round;
  };
  std::vector<Job> runs;
  for (unsigned round = 1; round <= cmd.repeat; ++round)
    for (const auto& policy : policies) runs.push_back({&policy, round});
  const bool several = runs.size() > 1;
  std::vector<Row> rows;
  int worst = static_cast<int>(ExitCode::ok);
  const auto started = std::chrono::steady_clock::now();
  auto announce = [&](std::size_t i) {
    if (several) std::fprintf(stderr, "[%zu/%zu] %s ...\n", i + 1, runs.size(), runs[i].policy->name.c_str());
  };

  if (cmd.jobs <= 1 || !several) {
    for (std::size_t i = 0; i < runs.size(); ++i) {
      announce(i);
      RunOutcome outcome = execute(cmd, *runs[i].policy, runs[i].round, several);
      std::fputs(outcome.text.c_str(), stdout);
      std::fflush(stdout);
      rows.push_back(outcome.row);
      worst = std::max(worst, outcome.exit_code);
    }
  } else {
    run_forked(
        runs.size(), cmd.jobs,
        [&](std::size_t i) {
          RunOutcome outcome = execute(cmd, *runs[i].policy, runs[i].round, several);
          return JobOutput{outcome.exit_code, encode_row(outcome.row) + outcome.text};
        },
        announce,
        [&](std::size_t i, const JobOutput& out) {
          std::string text = out.text;
          rows.push_back(decode_row(text, *runs[i].policy, runs[i].round));
          std::fputs(text.c_str(), out.exit_code > 1 && out.text.rfind("row ", 0) != 0 ? stderr : stdout);
          std::fflush(stdout);
          worst = std::max(worst, out.exit_code);
        });
  }
  if (several) print_summary(rows, seconds(std::chrono::steady_clock::now() - started));
  bool all_passed = std::all_of(rows.begin(), rows.end(), [](const Row& r) { return r.passed; });
  return std::max(worst, static_cast<int>(all_passed ? ExitCode::ok : ExitCode::check_failed));
}

int command_list(const fs::path& policy_dir) {
  auto policies = load_all_policies(policy_dir);
  std::size_t width = 0;
  for (const auto& p : policies) width = std::max(width, p.name.size());
  for (const auto& p : policies) fmt::print("{:<{}}  {}\n", p.name, width, p.summary);
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
  fmt::print("\nClient: {}\nServer: {}\n", steps(p.scenario.client), steps(p.scenario.server));
  for (const auto& [k, v] : p.scenario.client_sysctls) fmt::print("client sysctl {} = {}\n", k, v);
  for (const auto& [k, v] : p.scenario.server_sysctls) fmt::print("server sysctl {} = {}\n", k, v);
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
