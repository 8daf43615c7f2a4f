#include "harness/run/commands.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "agents/agent.hpp"
#include "harness/core/duration.hpp"
#include "harness/core/error.hpp"
#include "harness/core/junit.hpp"
#include "harness/core/pcapng.hpp"
#include "harness/core/policy_text.hpp"
#include "harness/core/report.hpp"
#include "harness/run/exec_process.hpp"
#include "harness/run/forked_jobs.hpp"
#include "harness/run/html_output.hpp"
#include "harness/run/lab.hpp"
#include "harness/run/policy_library.hpp"
#include "harness/run/run_clock.hpp"
#include "harness/run/run.hpp"

namespace lastack {

namespace fs = std::filesystem;

namespace {
double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// `base` is the file for a single run, or a directory (one file per run, named after the policy).
fs::path output_path(const std::string& base, const std::string& policy, unsigned round, bool several,
                     std::string_view extension) {
  if (!several && !(base.ends_with("/") || fs::is_directory(base))) return base;
  std::error_code ec;
  fs::create_directories(base, ec);
  if (ec) throw InputError(fmt::format("{}: cannot create the trace directory: {}", base, ec.message()));
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
  if (!cmd.shard) return policies;
  std::vector<Policy> kept;
  for (std::size_t i : shard_indices(policies.size(), *cmd.shard)) kept.push_back(std::move(policies[i]));
  return kept;
}

namespace {
struct RunOutcome {
  Row row;
  std::vector<CheckResult> failed;  // the checks that failed, for the JUnit report
  std::string text;                 // what the run prints: ladder, verdicts, result line
  int exit_code = 0;
};

// One run of one policy, rendered; also writes its JSON trace when asked.
RunOutcome execute(const RunCommand& cmd, const Policy& policy, unsigned round, bool several) {
  RunOptions options;
  options.ipv6 = cmd.ipv6;
  options.capture = cmd.capture;
  RunResult result = run_policy(policy, options);
  std::vector<CheckResult> failed;
  for (const auto& r : result.results)
    if (!r.passed) failed.push_back(r);
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
  if (cmd.html) write_html_run(*cmd.html, several, policy, round, result.trace, result.results);
  text += fmt::format("{} {} ({:.2f} s)\n", result.passed ? "PASS" : "FAIL", policy.name, seconds(result.wall));
  int code = static_cast<int>(result.passed ? ExitCode::ok : ExitCode::check_failed);
  // Fail closed: segments the kernel could not queue were never judged, so the run proves nothing.
  if (result.trace.queue_drops > 0) {
    text += fmt::format("lastack: harness error: the kernel dropped {} queued segment{} (NFQUEUE overflow)\n",
                        result.trace.queue_drops, result.trace.queue_drops == 1 ? "" : "s");
    code = static_cast<int>(ExitCode::harness);
  }
  const std::size_t failed_count = failed.size();
  return {{policy.name, round, result.passed, result.results.size(), failed_count, seconds(result.wall)},
          std::move(failed),
          text,
          code};
}

// A forked run sends its row, then one line per failed check (JSON, so any text survives the
// newline framing), ahead of its text: "row <passed> <checks> <failed> <wall>\n" "check {...}\n"...
// A child that died before reporting sends none of it, and its text is only the parent's note.
std::string encode_outcome(const RunOutcome& o) {
  const Row& r = o.row;
  std::string out = fmt::format("row {} {} {} {}\n", r.passed ? 1 : 0, r.checks, r.failed, r.wall);
  for (const CheckResult& c : o.failed)
    out += "check " +
           nlohmann::json{{"name", c.name}, {"builtin", c.builtin}, {"expected", c.expected}, {"saw", c.saw},
                          {"line", c.line}}
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
  return out + o.text;
}

// Takes one line (without its newline) off the front of `text` if it starts with `tag`.
std::optional<std::string> take_line(std::string& text, std::string_view tag) {
  if (!text.starts_with(tag)) return std::nullopt;
  const auto eol = text.find('\n');
  std::string line = text.substr(tag.size(), eol == std::string::npos ? std::string::npos : eol - tag.size());
  text.erase(0, eol == std::string::npos ? text.size() : eol + 1);
  return line;
}

RunOutcome decode_outcome(const JobOutput& out, const Policy& policy, unsigned round) {
  RunOutcome o{{policy.name, round, false, 0, 0, 0.0}, {}, out.text, out.exit_code};
  const auto row = take_line(o.text, "row ");
  if (!row) return o;  // the run died before reporting
  int passed = 0;
  std::sscanf(row->c_str(), "%d %zu %zu %lf", &passed, &o.row.checks, &o.row.failed, &o.row.wall);
  o.row.passed = passed == 1;
  while (const auto line = take_line(o.text, "check ")) {
    const auto j = nlohmann::json::parse(*line, nullptr, false);
    if (j.is_discarded()) continue;  // a check we cannot read still counts in the row
    o.failed.push_back({j.value("name", ""), j.value("builtin", false), false, j.value("expected", ""),
                        j.value("saw", ""), j.value("line", std::size_t{0})});
  }
  return o;
}

// Why a run that ended in an error (exit 2/3/4) did: its last "lastack: ..." line.
std::string error_reason(const std::string& text, int exit_code) {
  std::string reason = fmt::format("the run ended with exit code {}", exit_code);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("lastack: ")) reason = line.substr(9);
  return reason;
}

JUnitCase junit_case(const RunOutcome& o) {
  JUnitCase c{o.row.policy, o.row.round, o.row.passed, std::chrono::duration<double>(o.row.wall), o.row.checks,
              o.failed, ""};
  if (o.exit_code > static_cast<int>(ExitCode::check_failed)) c.error = error_reason(o.text, o.exit_code);
  return c;
}

void write_junit(const std::string& path, const std::vector<JUnitCase>& cases, double total) {
  std::ofstream out(path, std::ios::binary);
  out << render_junit(cases, std::chrono::duration<double>(total));
  if (!out) throw InputError(fmt::format("{}: cannot write the JUnit report", path));
}
}  // namespace

int command_run(const RunCommand& cmd, const std::vector<Policy>& policies) {
  struct Job {
    const Policy* policy;
    unsigned round;
  };
  if (policies.empty()) {  // an empty shard: more shards than policies
    if (cmd.shard) fmt::print("shard {}/{}: no policies\n", cmd.shard->index, cmd.shard->count);
    if (cmd.junit) write_junit(*cmd.junit, {}, 0.0);
    return static_cast<int>(ExitCode::ok);
  }
  std::vector<Job> runs;
  for (unsigned round = 1; round <= cmd.repeat; ++round)
    for (const auto& policy : policies) runs.push_back({&policy, round});
  const bool several = runs.size() > 1;
  std::vector<Row> rows;
  std::vector<JUnitCase> cases;
  std::vector<HtmlRunRow> html_runs;
  int worst = static_cast<int>(ExitCode::ok);
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] { return seconds(std::chrono::steady_clock::now() - started); };
  auto record = [&](const RunOutcome& outcome) {
    rows.push_back(outcome.row);
    if (cmd.junit) cases.push_back(junit_case(outcome));
    if (cmd.html) html_runs.push_back({outcome.row.policy, outcome.row.round, outcome.row.checks, outcome.failed});
    worst = std::max(worst, outcome.exit_code);
  };
  // Progress on stderr: for every run of a batch, and for a lone run when someone is watching
  // (syn-timeout, say, takes 7 s of real backoff before it prints anything).
  const bool watched = ::isatty(STDERR_FILENO);
  auto announce = [&](std::size_t i) {
    if (several)
      std::fprintf(stderr, "[%zu/%zu] %s ...\n", i + 1, runs.size(), runs[i].policy->name.c_str());
    else if (watched)
      std::fprintf(stderr, "running %s (gives up after %.0f s) ...\n", runs[i].policy->name.c_str(),
                   std::chrono::duration<double>(runs[i].policy->scenario.timeout).count());
  };

  if (cmd.jobs <= 1 || !several) {
    for (std::size_t i = 0; i < runs.size(); ++i) {
      announce(i);
      RunOutcome outcome;
      try {
        outcome = execute(cmd, *runs[i].policy, runs[i].round, several);
      } catch (const std::exception& e) {
        // The error still ends the command (main reports it); CI gets the report up to here.
        if (cmd.junit) {
          const auto* error = dynamic_cast<const Error*>(&e);
          const int code = static_cast<int>(error ? error->code() : ExitCode::harness);
          cases.push_back(junit_case({{runs[i].policy->name, runs[i].round, false, 0, 0, 0.0},
                                      {},
                                      fmt::format("lastack: {}\n", e.what()),
                                      code}));
          write_junit(*cmd.junit, cases, elapsed());
        }
        throw;
      }
      std::fputs(outcome.text.c_str(), stdout);
      std::fflush(stdout);
      record(outcome);
    }
  } else {
    run_forked(
        runs.size(), cmd.jobs,
        [&](std::size_t i) {
          RunOutcome outcome = execute(cmd, *runs[i].policy, runs[i].round, several);
          return JobOutput{outcome.exit_code, encode_outcome(outcome)};
        },
        announce,
        [&](std::size_t i, const JobOutput& out) {
          RunOutcome outcome = decode_outcome(out, *runs[i].policy, runs[i].round);
          std::fputs(outcome.text.c_str(), out.exit_code > 1 && out.text.rfind("row ", 0) != 0 ? stderr : stdout);
          std::fflush(stdout);
          record(outcome);
        });
  }
  const double total = elapsed();
  if (cmd.junit) write_junit(*cmd.junit, cases, total);
  if (cmd.html) write_html_index(*cmd.html, several, html_runs);
  if (several) print_summary(rows, total);
  bool all_passed = std::all_of(rows.begin(), rows.end(), [](const Row& r) { return r.passed; });
  return std::max(worst, static_cast<int>(all_passed ? ExitCode::ok : ExitCode::check_failed));
}

Policy resolve_exec_policy(const ExecCommand& cmd) {
  Policy policy = load_policy(cmd.policy, cmd.policy_dir);
  if (cmd.port) policy.scenario.port = *cmd.port;
  if (cmd.timeout) {
    try {
      policy.scenario.timeout = parse_duration(*cmd.timeout);
    } catch (const InputError& e) {
      throw InputError(fmt::format("--timeout {}: {}", *cmd.timeout, e.what()));
    }
  }
  policy.scenario.finish_with = Side::client;  // the run ends (after settle) when the client command does
  return policy;
}

namespace {
// `app` expectations describe lastack's own agents' steps: with the user's programs there are none
// to judge, so they are listed as not applicable (passing) instead of failing for want of events.
std::vector<CheckResult> split_off_app_expectations(Policy& policy) {
  std::vector<CheckResult> not_applicable;
  std::vector<Expectation> kept;
  for (Expectation& e : policy.expect) {
    const auto* app = std::get_if<AppExpect>(&e);
    if (!app) {
      kept.push_back(std::move(e));
      continue;
    }
    not_applicable.push_back({fmt::format("app {} (line {})", side_name(app->side), app->line), false, true,
                              "what lastack's own agent saw", "not applicable to exec: the programs are yours",
                              app->line});
  }
  policy.expect = std::move(kept);
  return not_applicable;
}

// The command's exit status as one of the checks, so the verdict table says why a run failed.
CheckResult client_exit_check(const Trace& trace) {
  CheckResult r{"client command exits 0", true, false, "the client command exits 0", "it never ended", 0};
  for (const TraceEvent& ev : trace.events)
    if (const auto* a = std::get_if<AppEvent>(&ev); a && a->side == Side::client && a->step == "command") {
      r.passed = a->outcome == "exit 0";
      r.saw = a->outcome;
    }
  return r;
}
}  // namespace

int command_exec(const ExecCommand& cmd, const Policy& given) {
  Policy policy = given;
  std::vector<CheckResult> not_applicable = split_off_app_expectations(policy);
  RunOptions options;
  options.ipv6 = cmd.ipv6;
  AgentFactory make_runner = [&cmd](AgentConfig config, const Lab& lab, asio::io_context& io, const RunClock& clock) {
    ExecConfig exec;
    exec.side = config.side;
    exec.command = config.side == Side::server ? cmd.server : cmd.client;
    exec.port = config.endpoint.port();
    exec.family = lab.ipv6() ? IpFamily::v6 : IpFamily::v4;
    exec.environment = {"LASTACK_SIDE=" + std::string(side_name(config.side)),
                        "LASTACK_SERVER_ADDR=" + config.endpoint.address().to_string(),
                        "LASTACK_SERVER_PORT=" + std::to_string(config.endpoint.port()),
                        "LASTACK_CLIENT_ADDR=" + lab.addresses().client.str()};
    exec.now = [&clock] { return clock.now(); };
    exec.on_event = std::move(config.on_event);
    return std::make_unique<ExecProcess>(io, std::move(exec), lab.side(config.side));
  };
  RunResult result = run_policy(policy, options, make_runner);
  const CheckResult client_exit = client_exit_check(result.trace);
  result.results.push_back(client_exit);
  result.results.insert(result.results.end(), not_applicable.begin(), not_applicable.end());
  std::size_t failed = 0;
  for (const auto& r : result.results) failed += r.passed ? 0 : 1;

  std::string text;
  if (!cmd.quiet || failed > 0) {
    text += fmt::format("== exec under {}: {}\n   ({})\n\n", policy.name, policy.summary, policy.file);
    if (!cmd.quiet) text += render_ladder(result.trace, {cmd.color, 100}) + "\n";
    text += render_verdicts(result.results, cmd.color) + "\n";
  }
  if (cmd.json) {
    auto out = open_output(*cmd.json, "JSON");
    write_jsonl(result.trace, result.results, out);
  }
  if (cmd.pcap) {
    auto out = open_output(*cmd.pcap, "pcapng");
    write_pcapng(result.trace, out);
  }
  int code = static_cast<int>(failed == 0 ? ExitCode::ok : ExitCode::check_failed);
  if (failed == 0)
    text += fmt::format("PASS exec under {} ({:.2f} s)\n", policy.name, seconds(result.wall));
  else if (!client_exit.passed && failed == 1)
    text += fmt::format("FAIL exec under {}: the client command ended with {} ({:.2f} s)\n", policy.name,
                        client_exit.saw, seconds(result.wall));
  else
    text += fmt::format("FAIL exec under {}: {} check{} failed{} ({:.2f} s)\n", policy.name, failed,
                        failed == 1 ? "" : "s",
                        client_exit.passed ? "" : fmt::format(", and the client command ended with {}", client_exit.saw),
                        seconds(result.wall));
  if (result.trace.queue_drops > 0) {
    text += fmt::format("lastack: harness error: the kernel dropped {} queued segment{} (NFQUEUE overflow)\n",
                        result.trace.queue_drops, result.trace.queue_drops == 1 ? "" : "s");
    code = static_cast<int>(ExitCode::harness);
  }
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  return code;
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
  if (!p.faults.empty() || !p.lab.empty()) fmt::print("\nOn the wire:\n");
  for (std::size_t i = 0; i < p.faults.size(); ++i) fmt::print("  fault {}: {}\n", i + 1, describe_fault(p.faults[i]));
  for (std::size_t i = 0; i < p.lab.size(); ++i) fmt::print("  lab {}: {}\n", i + 1, describe_lab_action(p.lab[i]));
  fmt::print("\nWhat to look for (checked on every run, with the built-in TCP invariants):\n");
  // A check's name depends only on the expectation, so an empty trace yields it.
  for (const auto& e : p.expect) fmt::print("  - {}\n", check_expectation(Trace{}, e).name);
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
