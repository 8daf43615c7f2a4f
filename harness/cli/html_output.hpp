#pragma once
// `lastack run --html`: where the HTML reports go, and writing them (harness/core/report/html_report.hpp).
#include <cstddef>
#include <string>
#include <vector>

#include "lastack/oracle.hpp"
#include "lastack/policy.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// The policy file as a report names it (the text ladder's header, the page's): as given, except
/// that a shipped policy found by name (an absolute path on the machine that ran it, in a
/// directory called policies) is "policies/<name>.toml".
std::string shown_policy_file(const Policy& policy);

/// True when `base` names a directory of reports (it ends in '/' or is an existing directory),
/// so a run writes DIR/<policy>.html and the batch an index.html; else `base` is the one page.
bool html_is_directory(const std::string& base, bool several);

/// Writes one run's page (and, into a directory, its small ladder DIR/<policy>.svg for the
/// index); `round` > 1 names it <policy>-<round>. Throws InputError when it cannot write.
void write_html_run(const std::string& base, bool several, const Policy& policy, unsigned round, const Trace& trace,
                    const std::vector<CheckResult>& results);

/// One finished run, as the index lists it.
struct HtmlRunRow {
  std::string policy;
  unsigned round = 1;
  std::size_t checks = 0;
  std::vector<CheckResult> unpassed;  // the checks that did not pass
};

/// Writes DIR/index.html comparing `runs` (their pages and small ladders written by
/// write_html_run); nothing unless `base` is a directory. Throws InputError when it cannot write.
void write_html_index(const std::string& base, bool several, const std::vector<HtmlRunRow>& runs);

}  // namespace lastack
