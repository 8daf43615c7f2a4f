// `lastack run`'s per-run rendering: result line, trace files, the forked-run wire format,
// JUnit cases and the summary table.
#include "harness/cli/run_outcome.hpp"
#include "harness/cli/html_output.hpp"

#include "harness/core/trace/trace_query.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <sstream>

#include "lastack/error.hpp"
#include "harness/core/record/pcapng.hpp"
#include "harness/core/report/draws_text.hpp"
#include "lastack/report.hpp"
#include "lastack/run.hpp"
#include "lastack/trace_jsonl.hpp"

namespace lastack {

namespace fs = std::filesystem;
using Json = nlohmann::json;

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

fs::path output_path(const std::string& base, const std::string& policy, unsigned round, bool several,
                     std::string_view extension) {
  if (!several && !(base.ends_with("/") || fs::is_directory(base))) return base;
  std::error_code ec;
  fs::create_directories(base, ec);
  if (ec) throw InputError(fmt::format("{}: cannot create the trace directory: {}", base, ec.message()));
  return fs::path(base) / (round > 1 ? fmt::format("{}.{}.{}", policy, round, extension)
                                     : fmt::format("{}.{}", policy, extension));
}

std::ofstream open_output(const fs::path& path, std::string_view what) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw InputError(fmt::format("{}: cannot write the {} trace", path.string(), what));
  return out;
}

int verdict_exit_code(RunVerdict v) {
  switch (v) {
    case RunVerdict::pass: return static_cast<int>(ExitCode::ok);
    case RunVerdict::fail: return static_cast<int>(ExitCode::check_failed);
    case RunVerdict::inconclusive: return static_cast<int>(ExitCode::inconclusive);
  }
  return static_cast<int>(ExitCode::check_failed);
}

int combine_exit_codes(int a, int b) {
  // What a code tells: an error means the run proved nothing; a failure beats "could not look".
  const auto rank = [](int code) {
    if (code == static_cast<int>(ExitCode::ok)) return 0;
    if (code == static_cast<int>(ExitCode::inconclusive)) return 1;
    if (code == static_cast<int>(ExitCode::check_failed)) return 2;
    return 3 + code;
  };
  return rank(a) >= rank(b) ? a : b;
}

namespace {

Row row_of(const Policy& policy, unsigned round, const RunResult& result) {
  Row row{policy.name, round, result.verdict, result.results.size(), 0, 0, 0, seconds(result.wall)};
  for (const CheckResult& r : result.results) {
    row.passed += r.outcome == Outcome::pass ? 1 : 0;
    row.failed += r.outcome == Outcome::fail ? 1 : 0;
    row.unchecked += r.outcome == Outcome::not_checked ? 1 : 0;
  }
  return row;
}

// The `lastack run` that draws the same again: the policy by name when it is a shipped one.
std::string replay_command(const RunCommand& cmd, const Policy& policy, std::uint64_t seed) {
  std::error_code ec;
  const bool shipped = fs::equivalent(fs::path(policy.file).parent_path(), cmd.policy_dir, ec);
  return fmt::format("lastack run --seed {}{}{} {}", seed, cmd.ipv6 ? " --ipv6" : "",
                     cmd.capture == Capture::selective ? " --capture selective" : "", shipped ? policy.name : policy.file);
}

// "PASS baseline (0.52 s)"; "INCONCLUSIVE p: state client reaches X (line 40): why (0.52 s)";
// a run that drew: "FAIL p (seed 7, 0.52 s); replay: lastack run --seed 7 p".
std::string result_line(const RunCommand& cmd, const Policy& policy, const RunResult& result) {
  std::string line = fmt::format("{} {}", verdict_label(result.verdict), policy.name);
  if (result.verdict == RunVerdict::inconclusive) {
    std::string why;
    for (const std::string& r : unchecked_reasons(result.results)) why += (why.empty() ? "" : "; ") + r;
    line += ": not checked: " + why;
  }
  const auto& seed = result.trace.random_seed;
  line += fmt::format(" ({}{:.2f} s)", seed ? fmt::format("seed {}, ", *seed) : "", seconds(result.wall));
  if (seed && result.verdict != RunVerdict::pass) line += "; replay: " + replay_command(cmd, policy, *seed);
  return line + "\n";
}

void write_traces(const RunCommand& cmd, const Policy& policy, unsigned round, bool several,
                  const RunResult& result) {
  if (cmd.json) {
    auto out = open_output(output_path(*cmd.json, policy.name, round, several, "jsonl"), "JSON");
    write_jsonl(result.trace, result.results, out);
  }
  if (cmd.pcap) {
    auto out = open_output(output_path(*cmd.pcap, policy.name, round, several, "pcapng"), "pcapng");
    write_pcapng(result.trace, out);
  }
  if (cmd.html) write_html_run(*cmd.html, several, policy, round, result.trace, result.results);
}

}  // namespace

RunOutcome execute(const RunCommand& cmd, const Policy& policy, unsigned round, bool several) {
  RunOptions options;
  options.ipv6 = cmd.ipv6;
  options.capture = cmd.capture;
  options.seed = round_seed(cmd, policy, round);
  RunResult result = run_policy(policy, options);
  RunOutcome o{row_of(policy, round, result), {}, std::string(observation_note(result.trace)), "", 0};
  for (const auto& r : result.results)
    if (r.outcome == Outcome::fail || (!r.builtin && r.outcome == Outcome::not_checked)) o.reported.push_back(r);
  if (!cmd.quiet || result.verdict != RunVerdict::pass) {
    o.text += fmt::format("== {}: {}\n   ({})\n\n", policy.name, policy.summary, shown_policy_file(policy));
    if (!cmd.quiet) o.text += render_ladder(result.trace, {cmd.color, 100}) + "\n";
    if (const std::string draws = render_draws(result.trace); !cmd.quiet && !draws.empty()) o.text += draws + "\n";
    o.text += render_verdicts(result.results, cmd.color, o.note) + "\n";
  }
  write_traces(cmd, policy, round, several, result);
  for (const std::string& d : result.discarded_attempts) o.text += fmt::format("lastack: {}: {}\n", policy.name, d);
  o.text += result_line(cmd, policy, result);
  o.exit_code = verdict_exit_code(result.verdict);
  fail_on_harness_errors(result.trace, result.results, o.text, o.exit_code);
  return o;
}

void fail_on_harness_errors(const Trace& trace, const std::vector<CheckResult>& results, std::string& text, int& code) {
  for (const CheckResult& r : results)
    if (r.harness && r.outcome == Outcome::fail) {
      text += fmt::format("lastack: {}\n", r.saw);
      code = static_cast<int>(ExitCode::harness);
    }
  if (trace.queue_drops > 0) {
    text += fmt::format("lastack: harness error: the kernel dropped {} queued segment{} (NFQUEUE overflow)\n",
                        trace.queue_drops, trace.queue_drops == 1 ? "" : "s");
    code = static_cast<int>(ExitCode::harness);
  }
  const auto errors = harness_errors(trace);
  if (!errors.empty()) {
    text += fmt::format("lastack: {}{}\n", errors.front()->what,
                        errors.size() > 1 ? fmt::format(" (and {} more)", errors.size() - 1) : "");
    code = static_cast<int>(ExitCode::harness);
  }
}

std::string encode_outcome(const RunOutcome& o) {
  const Row& r = o.row;
  const auto dump = [](const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); };
  std::string out = "row " +
                    dump(Json{{"verdict", verdict_label(r.verdict)}, {"checks", r.checks}, {"passed", r.passed},
                              {"failed", r.failed}, {"unchecked", r.unchecked}, {"wall", r.wall},
                              {"note", o.note}}) +
                    "\n";
  for (const CheckResult& c : o.reported)
    out += "check " +
           dump(Json{{"name", c.name}, {"builtin", c.builtin}, {"outcome", outcome_key(c.outcome)},
                     {"expected", c.expected}, {"saw", c.saw}, {"line", c.line}}) +
           "\n";
  return out + o.text;
}

namespace {
// Takes one line (without its newline) off the front of `text` if it starts with `tag`.
std::optional<std::string> take_line(std::string& text, std::string_view tag) {
  if (!text.starts_with(tag)) return std::nullopt;
  const auto eol = text.find('\n');
  std::string line = text.substr(tag.size(), eol == std::string::npos ? std::string::npos : eol - tag.size());
  text.erase(0, eol == std::string::npos ? text.size() : eol + 1);
  return line;
}

RunVerdict verdict_from(const std::string& label) {
  for (RunVerdict v : {RunVerdict::pass, RunVerdict::fail, RunVerdict::inconclusive})
    if (verdict_label(v) == label) return v;
  return RunVerdict::fail;
}
}  // namespace

RunOutcome decode_outcome(const JobOutput& out, const Policy& policy, unsigned round) {
  RunOutcome o{{policy.name, round, RunVerdict::fail, 0, 0, 0, 0, 0.0}, {}, "", out.text, out.exit_code};
  const auto row = take_line(o.text, "row ");
  if (!row) return o;  // the run died before reporting
  const Json j = Json::parse(*row, nullptr, false);
  if (j.is_object()) {
    o.row.verdict = verdict_from(j.value("verdict", ""));
    o.row.checks = j.value("checks", std::size_t{0});
    o.row.passed = j.value("passed", std::size_t{0});
    o.row.failed = j.value("failed", std::size_t{0});
    o.row.unchecked = j.value("unchecked", std::size_t{0});
    o.row.wall = j.value("wall", 0.0);
    o.note = j.value("note", "");
  }
  while (const auto line = take_line(o.text, "check ")) {
    const Json c = Json::parse(*line, nullptr, false);
    if (c.is_discarded()) continue;  // a check we cannot read still counts in the row
    o.reported.push_back({c.value("name", ""), c.value("builtin", false),
                          outcome_from_key(c.value("outcome", "fail")).value_or(Outcome::fail),
                          c.value("expected", ""), c.value("saw", ""), c.value("line", std::size_t{0})});
  }
  return o;
}

namespace {
// Why a run that ended in an error (exit 2/3/4) did: its last "lastack: ..." line.
std::string error_reason(const std::string& text, int exit_code) {
  std::string reason = fmt::format("the run ended with exit code {}", exit_code);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("lastack: ")) reason = line.substr(9);
  return reason;
}

bool is_error(int code) {
  return code != static_cast<int>(ExitCode::ok) && code != static_cast<int>(ExitCode::check_failed) &&
         code != static_cast<int>(ExitCode::inconclusive);
}
}  // namespace

JUnitCase junit_case(const RunOutcome& o) {
  JUnitCase c{o.row.policy, o.row.round, o.row.verdict, std::chrono::duration<double>(o.row.wall), o.row.checks,
              o.reported, "", o.note};
  if (is_error(o.exit_code)) c.error = error_reason(o.text, o.exit_code);
  return c;
}

void write_junit(const std::string& path, const std::vector<JUnitCase>& cases, double total) {
  std::ofstream out(path, std::ios::binary);
  out << render_junit(cases, std::chrono::duration<double>(total));
  if (!out) throw InputError(fmt::format("{}: cannot write the JUnit report", path));
}

void print_summary(const std::vector<Row>& rows, double total) {
  std::size_t width = 6;
  for (const auto& r : rows) width = std::max(width, r.policy.size() + (r.round > 1 ? 3 : 0));
  fmt::print("\n{:<{}}  {:<12}  {:>6}  {:>11}  {:>7}\n", "policy", width, "result", "passed", "not checked", "time");
  std::size_t counts[3] = {0, 0, 0};
  for (const auto& r : rows) {
    ++counts[static_cast<std::size_t>(r.verdict)];
    const std::string name = r.round > 1 ? fmt::format("{} #{}", r.policy, r.round) : r.policy;
    fmt::print("{:<{}}  {:<12}  {:>6}  {:>11}  {:>6.2f}s\n", name, width, verdict_label(r.verdict),
               fmt::format("{}/{}", r.passed, r.checks), r.unchecked, r.wall);
  }
  fmt::print("{} run{}: {} passed, {} failed, {} inconclusive ({:.1f} s)\n", rows.size(),
             rows.size() == 1 ? "" : "s", counts[static_cast<std::size_t>(RunVerdict::pass)],
             counts[static_cast<std::size_t>(RunVerdict::fail)],
             counts[static_cast<std::size_t>(RunVerdict::inconclusive)], total);
}

}  // namespace lastack
