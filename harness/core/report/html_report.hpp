#pragma once
// The HTML report: one self-contained page per run (the SVG ladder with its step-through player
// and a state diagram per side, then the verdict table), and an index comparing several runs
// side by side. No network, fonts, images or external scripts: inline CSS, an inline script
// that records script errors in the page, and the player's inline script (html_player.hpp).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/report/html_player.hpp"
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
  std::string preface;  // raw HTML after the header (a lesson's claim), or empty
  std::vector<PageQuestion> questions;  // what the player asks before a step (a lesson's), or none
};

/// One run's page: header, the player (render_player) around the SVG ladder, legend, verdict table.
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

/// A complete page around `body`: the report's style (and `extra_style`) and its error hook.
std::string html_page(std::string_view title, const std::string& body, std::string_view extra_style = {});

/// "PASS 9 passed, 1 not checked": `checks` in all, `listed` some or all of them (the others passed).
std::string verdict_summary(std::size_t checks, const std::vector<CheckResult>& listed);

}  // namespace lastack
