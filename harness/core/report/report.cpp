// The verdict table of a finished run. (The ladder is in ladder.cpp, the JSON Lines trace in
// record/trace_jsonl.cpp.)
#include "lastack/report.hpp"

#include <algorithm>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include "harness/core/base/text_columns.hpp"

namespace lastack {
namespace {

constexpr std::size_t verdict_width = 100;  // the terminal the table is laid out for
constexpr std::size_t max_name_width = 32;  // keeps "type" first, as a reader scans for it

}  // namespace

std::string check_counts_text(const std::vector<CheckResult>& results) {
  std::size_t n[4] = {0, 0, 0, 0};
  for (const CheckResult& r : results) ++n[static_cast<std::size_t>(r.outcome)];
  std::string out = fmt::format("{} checks: {} passed, {} failed, {} not checked", results.size(),
                                n[static_cast<std::size_t>(Outcome::pass)],
                                n[static_cast<std::size_t>(Outcome::fail)],
                                n[static_cast<std::size_t>(Outcome::not_checked)]);
  if (const auto na = n[static_cast<std::size_t>(Outcome::not_applicable)]) out += fmt::format(", {} not applicable", na);
  return out;
}

namespace {

std::string_view outcome_color(Outcome o) {
  switch (o) {
    case Outcome::pass: return "\x1b[32m";
    case Outcome::fail: return "\x1b[31m";
    case Outcome::not_checked: return "\x1b[33m";
    case Outcome::not_applicable: return "\x1b[2m";
  }
  return "";
}

std::string detail_text(const CheckResult& r) {
  switch (r.outcome) {
    case Outcome::pass:
    case Outcome::not_applicable: return r.saw;
    case Outcome::fail: return fmt::format("expected: {}; saw: {}", r.expected, r.saw);
    case Outcome::not_checked: return fmt::format("not checked: {} (expected: {})", r.saw, r.expected);
  }
  return r.saw;
}

}  // namespace

std::string render_verdicts(const std::vector<CheckResult>& results, bool color, std::string_view note) {
  std::vector<const CheckResult*> ordered;
  for (const auto& r : results) ordered.push_back(&r);
  std::stable_partition(ordered.begin(), ordered.end(),
                        [](const CheckResult* r) { return r->builtin; });
  std::size_t name_width = 0;
  for (const CheckResult* r : ordered) name_width = std::max(name_width, display_columns(r->name));
  name_width = std::min(name_width, max_name_width);
  std::size_t status_width = 4;  // "PASS"; "NOT CHECKED" widens the column when present
  for (const CheckResult* r : ordered) status_width = std::max(status_width, outcome_label(r->outcome).size());
  const std::size_t indent = status_width + 2 + 10 + 1 + name_width + 2;  // status, origin, name, gaps

  std::string out;
  for (const CheckResult* r : ordered) {
    const std::string_view label = outcome_label(r->outcome);
    const std::string status = std::string(label) + std::string(status_width - label.size(), ' ');
    const std::string origin = r->builtin ? "invariant" : fmt::format("policy:{}", r->line);
    std::string name = r->name;
    // A name too long for its column gets the line to itself; the detail starts below.
    const bool long_name = display_columns(name) > name_width;
    if (!long_name) name += std::string(name_width - display_columns(name), ' ');
    out += color ? fmt::format("{}{}\x1b[0m{}", outcome_color(r->outcome), label,
                               std::string(status_width - label.size(), ' '))
                 : status;
    out += fmt::format("  {:<10} {}", origin, name);
    // Details wrap under their own column, so the table stays readable in 100 columns.
    const auto lines = wrap_columns(detail_text(*r), verdict_width - indent);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (i > 0 || long_name)
        out += "\n" + std::string(indent, ' ');
      else
        out += "  ";
      out += lines[i];
    }
    out += '\n';
  }
  out += check_counts_text(results) + "\n";
  if (!note.empty()) out += fmt::format("({})\n", note);
  return out;
}
}  // namespace lastack
