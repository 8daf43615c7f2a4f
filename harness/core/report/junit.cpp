#include "harness/core/report/junit.hpp"

#include <fmt/format.h>

namespace lastack {

namespace {
std::string failure_text(const JUnitCase& run) {
  std::string text;
  for (const CheckResult& r : run.failed)
    if (r.outcome == Outcome::fail) text += fmt::format("{}\n  expected: {}\n  saw: {}\n", r.name, r.expected, r.saw);
  return text;
}

std::size_t count_of(const JUnitCase& run, Outcome o) {
  std::size_t n = 0;
  for (const CheckResult& r : run.failed) n += r.outcome == o ? 1 : 0;
  return n;
}

// "state client reaches TIME_WAIT (line 40): FIN_WAIT_2 was never sampled, ..."
std::string skipped_text(const JUnitCase& run) {
  std::string text;
  for (const CheckResult& r : run.failed)
    if (r.outcome == Outcome::not_checked && !r.builtin)
      text += fmt::format("{}{} (line {}): not checked: {}", text.empty() ? "" : "; ", r.name, r.line, r.saw);
  return text;
}

std::string system_out(const JUnitCase& run) {
  return run.note.empty() ? "" : fmt::format("    <system-out>{}</system-out>\n", xml_escape(run.note));
}
}  // namespace

std::string render_junit_case(const JUnitCase& run) {
  const std::string name = run.round > 1 ? fmt::format("{} #{}", run.policy, run.round) : run.policy;
  std::string out = fmt::format(R"(  <testcase classname="lastack.{}" name="{}" time="{:.3f}")", xml_escape(run.policy),
                                xml_escape(name), run.wall.count());
  if (!run.error.empty())
    return out + fmt::format(">\n    <error message=\"{}\"/>\n  </testcase>\n", xml_escape(run.error));
  if (run.verdict == RunVerdict::pass)
    return run.note.empty() ? out + "/>\n" : out + ">\n" + system_out(run) + "  </testcase>\n";
  if (run.verdict == RunVerdict::inconclusive)
    return out + fmt::format(">\n    <skipped message=\"inconclusive: {}\"/>\n{}  </testcase>\n",
                             xml_escape(skipped_text(run)), system_out(run));
  return out + fmt::format(">\n    <failure message=\"{} of {} checks failed\">{}</failure>\n{}  </testcase>\n",
                           count_of(run, Outcome::fail), run.checks, xml_escape(failure_text(run)),
                           system_out(run));
}

std::string render_junit(const std::vector<JUnitCase>& runs, std::chrono::duration<double> total) {
  std::size_t failures = 0, errors = 0, skipped = 0;
  for (const JUnitCase& r : runs) {
    if (!r.error.empty())
      ++errors;
    else if (r.verdict == RunVerdict::fail)
      ++failures;
    else if (r.verdict == RunVerdict::inconclusive)
      ++skipped;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format(
      "<testsuite name=\"lastack\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\">\n",
      runs.size(), failures, errors, skipped, total.count());
  for (const JUnitCase& r : runs) out += render_junit_case(r);
  return out + "</testsuite>\n";
}

}  // namespace lastack
