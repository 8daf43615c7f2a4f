#include "harness/cli/lesson_command.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>

#include "harness/cli/run_outcome.hpp"
#include "harness/core/record/pcapng.hpp"
#include "harness/core/report/html_report.hpp"
#include "harness/core/report/lesson_questions.hpp"
#include "harness/core/report/lesson_site.hpp"
#include "harness/core/report/svg_ladder.hpp"
#include "lastack/error.hpp"
#include "lastack/policy_library.hpp"
#include "lastack/privilege.hpp"
#include "lastack/run.hpp"

namespace lastack {

namespace fs = std::filesystem;

namespace {
struct Ran {
  Policy policy;
  RunResult result;
  LessonRun run;
};

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  if (out) out << text;
  if (!out) throw InputError(fmt::format("{}: cannot write the lesson's page", path.string()));
}

Lesson read_lesson(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot read the lesson file", path.string()));
  return parse_lesson({std::istreambuf_iterator<char>(in), {}}, path.string());
}

// Every policy the lesson names, once, in the order it first names them (all loaded before any lab).
std::vector<Policy> lesson_policies(const Lesson& lesson, const fs::path& dir) {
  std::vector<Policy> out;
  std::map<std::string, bool> seen;
  const auto add = [&](const std::string& name) {
    if (!seen.emplace(name, true).second) return;
    out.push_back(load_policy(name, dir));
  };
  for (const LessonClaim& c : lesson.claims)
    for (const std::string& p : c.policies) add(p);
  for (const LessonQuestion& q : lesson.questions) add(q.policy);
  return out;
}

std::map<std::string, Ran> run_all(const std::vector<Policy>& policies, const LessonCommand& cmd, int& code) {
  std::map<std::string, Ran> ran;
  const fs::path runs = fs::path(cmd.dir) / "runs";
  for (std::size_t i = 0; i < policies.size(); ++i) {
    const Policy& p = policies[i];
    std::fprintf(stderr, "[%zu/%zu] %s ...\n", i + 1, policies.size(), p.name.c_str());
    RunOptions options;
    options.ipv6 = cmd.ipv6;
    RunResult result = run_policy(p, options);
    std::string text;
    int run_code = verdict_exit_code(result.verdict);
    fail_on_harness_errors(result.trace, result.results, text, run_code);
    if (!text.empty()) std::fputs(text.c_str(), stderr);
    code = combine_exit_codes(code, run_code);
    LessonRun run{p.name, p.summary, "runs/" + p.name + ".html", "runs/" + p.name + ".pcapng", result.verdict,
                  result.results.size(), {}};
    for (const CheckResult& r : result.results)
      if (r.outcome != Outcome::pass) run.unpassed.push_back(r);
    std::ofstream pcap(runs / (p.name + ".pcapng"), std::ios::binary);
    write_pcapng(result.trace, pcap);
    if (!pcap) throw InputError(fmt::format("{}: cannot write the pcapng", (runs / (p.name + ".pcapng")).string()));
    write_file(runs / (p.name + ".html"),
               render_html_report(result.trace, result.results,
                                  {p.name, p.summary, p.name + ".toml", "<p><a href=\"../index.html\">← the lesson</a> · "
                                   "<a href=\"" + p.name + ".pcapng\" download>pcapng</a></p>", {}}));
    ran.emplace(p.name, Ran{p, std::move(result), std::move(run)});
  }
  return ran;
}
}  // namespace

fs::path lesson_path(const LessonCommand& cmd) {
  return cmd.lesson ? fs::path(*cmd.lesson) : (cmd.policy_dir / ".." / "lessons" / "seed-texts.toml").lexically_normal();
}

PreparedLesson prepare_lesson(const LessonCommand& cmd) {
  Lesson lesson = read_lesson(lesson_path(cmd));
  std::vector<Policy> policies = lesson_policies(lesson, cmd.policy_dir);
  return {std::move(lesson), std::move(policies)};
}

int command_lesson(const LessonCommand& cmd, const PreparedLesson& prepared) {
  const Lesson& lesson = prepared.lesson;
  const std::vector<Policy>& policies = prepared.policies;
  if (sys::current_privilege_mode() != sys::PrivilegeMode::root)
    throw EnvironmentError("lesson needs root: each state on its pages is the kernel's tracepoint's word, and "
                           "without root they would only be sampled (run it with sudo)");
  std::error_code ec;
  fs::create_directories(fs::path(cmd.dir) / "runs", ec);
  if (ec) throw InputError(fmt::format("{}: cannot create the lesson's directory: {}", cmd.dir, ec.message()));
  int code = 0;
  const std::map<std::string, Ran> ran = run_all(policies, cmd, code);

  std::vector<std::vector<const LessonRun*>> claim_runs;
  for (std::size_t i = 0; i < lesson.claims.size(); ++i) {
    const LessonClaim& c = lesson.claims[i];
    std::vector<const LessonRun*> runs;
    for (const std::string& p : c.policies) runs.push_back(&ran.at(p).run);
    const Ran& first = ran.at(c.policies.front());
    write_file(fs::path(cmd.dir) / fmt::format("claim-{}.html", i + 1),
               render_html_report(first.result.trace, first.result.results,
                                  {fmt::format("Claim {}: {}", i + 1, first.policy.name), first.policy.summary,
                                   first.policy.name + ".toml", claim_preface(c, i + 1, runs, "index.html"), {}}));
    claim_runs.push_back(std::move(runs));
  }
  std::vector<QuestionLink> links;
  for (std::size_t i = 0; i < lesson.questions.size(); ++i) {
    const LessonQuestion& q = lesson.questions[i];
    const Ran& r = ran.at(q.policy);
    const WireIndex wire = index_wire(r.result.trace);
    const QuestionOnRun on = answer_on_run(q, play_steps(r.result.trace, state_bands(r.result.trace), wire), wire);
    const std::string page = fmt::format("question-{}.html", i + 1);
    links.push_back({q.ask, q.quote, page, on.missing});
    if (!on.page) {
      std::fprintf(stderr, "lastack: %s:%zu: not asked: %s\n", lesson.file.c_str(), q.line, on.missing.c_str());
      continue;
    }
    if (!on.page->correct)
      std::fprintf(stderr, "lastack: %s:%zu: the kernel's answer (%s) is none of the choices\n", lesson.file.c_str(),
                   q.line, on.page->answer.c_str());
    write_file(fs::path(cmd.dir) / page,
               render_html_report(r.result.trace, r.result.results,
                                  {fmt::format("Question {}: {}", i + 1, r.policy.name), r.policy.summary,
                                   r.policy.name + ".toml", question_preface(q, i + 1, "index.html"), {*on.page}}));
  }
  const std::string kernel = ran.empty() ? "" : ran.begin()->second.result.trace.kernel;
  write_file(fs::path(cmd.dir) / "index.html", render_lesson_index(lesson, claim_runs, links, kernel));
  std::fprintf(stderr, "lesson: %zu claims, %zu questions, %zu runs: %s\n", lesson.claims.size(),
               lesson.questions.size(), ran.size(), (fs::path(cmd.dir) / "index.html").c_str());
  return code;
}

}  // namespace lastack
