#include "harness/core/junit.hpp"

#include <fmt/format.h>

namespace lastack {

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 has no way to carry other control bytes (an ANSI escape, say): drop them.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t' || c == '\r') out += c;
    }
  }
  return out;
}

namespace {
std::string failure_text(const JUnitCase& run) {
  std::string text;
  for (const CheckResult& r : run.failed)
    text += fmt::format("{}\n  expected: {}\n  saw: {}\n", r.name, r.expected, r.saw);
  return text;
}
}  // namespace

std::string render_junit_case(const JUnitCase& run) {
  const std::string name = run.round > 1 ? fmt::format("{} #{}", run.policy, run.round) : run.policy;
  std::string out = fmt::format(R"(  <testcase classname="lastack.{}" name="{}" time="{:.3f}")", xml_escape(run.policy),
                                xml_escape(name), run.wall.count());
  if (!run.error.empty())
    return out + fmt::format(">\n    <error message=\"{}\"/>\n  </testcase>\n", xml_escape(run.error));
  if (run.passed) return out + "/>\n";
  return out + fmt::format(">\n    <failure message=\"{} of {} checks failed\">{}</failure>\n  </testcase>\n",
                           run.failed.size(), run.checks, xml_escape(failure_text(run)));
}

std::string render_junit(const std::vector<JUnitCase>& runs, std::chrono::duration<double> total) {
  std::size_t failures = 0, errors = 0;
  for (const JUnitCase& r : runs) {
    if (!r.error.empty())
      ++errors;
    else if (!r.passed)
      ++failures;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuite name=\"lastack\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3f}\">\n",
                     runs.size(), failures, errors, total.count());
  for (const JUnitCase& r : runs) out += render_junit_case(r);
  return out + "</testsuite>\n";
}

}  // namespace lastack
