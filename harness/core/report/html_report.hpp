#pragma once
// The HTML report: one self-contained page per run (the SVG ladder, then the verdict table),
// and an index comparing several runs side by side. No network, fonts, images or external
// scripts: inline CSS, and one inline script that only records script errors in the page.
#include <cstddef>
#include <string>
#include <vector>

#include "lastack/oracle.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// A check's outcome, the one place the report reads it.
Outcome check_outcome(const CheckResult& r);

/// What a run's page says about it besides the trace.
struct HtmlRunInfo {
  std::string title;    // "drop-final-ack" or "drop-final-ack #2"
  std::string summary;  // the policy's one-line summary
  std::string file;     // the policy file
};

/// One run's page: header, SVG ladder (render_svg_ladder), legend, verdict table.
std::string render_html_report(const Trace& trace, const std::vector<CheckResult>& results,
                               const HtmlRunInfo& info);

/// One run on the index page.
struct HtmlIndexEntry {
  std::string title;                 // "drop-final-ack", "drop-final-ack #2"
  std::string page;                  // the run's page, relative to the index: "drop-final-ack.html"
  std::size_t checks = 0;            // how many checks the run had
  std::vector<CheckResult> unpassed; // those among them that did not pass (all a forked run reports)
  std::string ladder;                // the compact SVG ladder (render_svg_ladder compact), or empty
};

/// The index: the runs' small ladders next to each other, each with its verdict summary and a
/// link to its full page.
std::string render_html_index(const std::vector<HtmlIndexEntry>& runs);

}  // namespace lastack
