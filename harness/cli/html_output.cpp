#include "harness/cli/html_output.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lastack/error.hpp"
#include "harness/core/report/html_report.hpp"
#include "harness/core/report/svg_ladder.hpp"

namespace lastack {

namespace fs = std::filesystem;

namespace {
std::string run_name(const std::string& policy, unsigned round) {
  return round > 1 ? fmt::format("{}-{}", policy, round) : policy;
}

std::string run_title(const std::string& policy, unsigned round) {
  return round > 1 ? fmt::format("{} #{}", policy, round) : policy;
}

void write_file(const fs::path& path, const std::string& text, std::string_view what) {
  std::ofstream out(path, std::ios::binary);
  if (out) out << text;
  if (!out) throw InputError(fmt::format("{}: cannot write the {}", path.string(), what));
}

fs::path directory(const std::string& base) {
  std::error_code ec;
  fs::create_directories(base, ec);
  if (ec) throw InputError(fmt::format("{}: cannot create the HTML report directory: {}", base, ec.message()));
  return fs::path(base);
}


}  // namespace

std::string shown_policy_file(const Policy& policy) {
  const fs::path file(policy.file);
  if (file.is_absolute() && file.parent_path().filename() == "policies") return (fs::path("policies") / file.filename()).string();
  return policy.file;
}

bool html_is_directory(const std::string& base, bool several) {
  return several || base.ends_with("/") || fs::is_directory(base);
}

void write_html_run(const std::string& base, bool several, const Policy& policy, unsigned round, const Trace& trace,
                    const std::vector<CheckResult>& results) {
  const std::string page = render_html_report(trace, results, {run_title(policy.name, round), policy.summary, shown_policy_file(policy)});
  if (!html_is_directory(base, several)) return write_file(base, page, "HTML report");
  const fs::path dir = directory(base);
  const std::string name = run_name(policy.name, round);
  write_file(dir / (name + ".html"), page, "HTML report");
  write_file(dir / (name + ".svg"), render_svg_ladder(trace, {true}) + "\n", "HTML report's ladder");
}

void write_html_index(const std::string& base, bool several, const std::vector<HtmlRunRow>& runs) {
  if (!html_is_directory(base, several)) return;
  const fs::path dir = directory(base);
  std::vector<HtmlIndexEntry> entries;
  for (const HtmlRunRow& run : runs) {
    const std::string name = run_name(run.policy, run.round);
    // The run (possibly a forked child) wrote its small ladder next to its page: inline it, so
    // the index shows every ladder without a second trace in memory.
    std::ifstream in(dir / (name + ".svg"), std::ios::binary);
    std::ostringstream ladder;
    if (in) ladder << in.rdbuf();
    entries.push_back({run_title(run.policy, run.round), name + ".html", run.checks, run.unpassed, ladder.str()});
  }
  write_file(dir / "index.html", render_html_index(entries), "HTML index");
}

}  // namespace lastack
