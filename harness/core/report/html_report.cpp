#include "harness/core/report/html_report.hpp"

#include <fmt/format.h>

#include "harness/core/report/ladder_model.hpp"
#include "harness/core/report/step_list.hpp"
#include "harness/core/report/svg.hpp"
#include "harness/core/report/svg_ladder.hpp"
#include "harness/core/trace/trace_query.hpp"

namespace lastack {

// The lead changes only this line when CheckResult carries an Outcome.
Outcome check_outcome(const CheckResult& r) { return r.outcome; }

namespace {
using svg::escape;

constexpr std::string_view style = R"(<style>
body{font-family:sans-serif;margin:16px;color:#212121;background:#fff}
h1{font-size:20px;margin:0 0 4px} .sub{color:#555;margin:0 0 12px}
svg.ladder{display:block;background:#fcfcfc;border:1px solid #ddd}
svg .lane{stroke:#90a4ae;stroke-width:2} svg .lane-name{font-weight:bold;font-size:14px}
svg .axis{stroke:#b0bec5} svg .tick{fill:#607d8b;font-size:10px}
svg .shaft{stroke:#37474f;stroke-width:1.5} svg .from-server .shaft{stroke:#455a64}
svg .retx .shaft{stroke:#e65100;stroke-width:2} svg .injected .shaft{stroke:#6a1b9a;stroke-dasharray:6 3}
svg .dropped .shaft{stroke:#c62828;stroke-dasharray:5 3}
svg .cross line{stroke:#c62828;stroke-width:3} svg .drop-note{fill:#c62828}
svg .pause{stroke:#757575;stroke-width:2;stroke-dasharray:3 3} svg .pause-note{fill:#616161;font-style:italic}
svg .seg-label{fill:#263238} svg .retx .seg-label{fill:#bf360c}
svg .seg:hover .shaft{stroke-width:3.5}
svg .retx-link{fill:none;stroke:#e65100;stroke-width:1;stroke-dasharray:2 2} svg .timer{fill:#e65100;font-style:italic}
svg .state-label{fill:#37474f} svg .state-note{fill:#607d8b;font-size:10px} svg .app-note{fill:#6d4c41} svg .lab-note{fill:#757575;font-style:italic}
svg .band{fill:#cfd8dc;stroke:#90a4ae;stroke-width:.5}
svg .st-ESTABLISHED{fill:#a5d6a7} svg .st-SYN_SENT,svg .st-SYN_RECV{fill:#fff59d}
svg .st-FIN_WAIT_1,svg .st-FIN_WAIT_2,svg .st-CLOSING{fill:#90caf9}
svg .st-CLOSE_WAIT,svg .st-LAST_ACK{fill:#ffcc80} svg .st-TIME_WAIT{fill:#ce93d8}
svg .form-request{stroke:#f57f17;stroke-width:1.5;stroke-dasharray:4 2} svg .form-timewait{stroke:#6a1b9a;stroke-width:1.5}
svg .band.inferred{fill-opacity:.35;stroke-dasharray:2 2} svg .band-wire{fill:#fff;fill-opacity:.65;stroke:none}
table{border-collapse:collapse;margin-top:16px} td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.o-pass{color:#2e7d32;font-weight:bold} .o-fail{color:#c62828;font-weight:bold}
.o-not-checked{color:#ef6c00;font-weight:bold} .o-not-applicable{color:#757575}
.legend{color:#555;font-size:13px;margin:8px 0} .note{color:#ef6c00} .counters{font-family:monospace;font-size:13px;margin:4px 0}
.cards{display:flex;flex-wrap:wrap;gap:16px} .card{border:1px solid #ccc;padding:8px}
.card h2{font-size:16px;margin:0 0 4px} .card ul{margin:4px 0;padding-left:18px;font-size:13px;max-width:400px}
</style>)";

// Records any script error in the page itself, so a headless browser's DOM shows it.
constexpr std::string_view error_hook =
    "<script>window.onerror=function(m){document.documentElement.setAttribute('data-script-error',String(m));};"
    "</script>";

std::string outcome_class(Outcome o) {
  switch (o) {
    case Outcome::pass: return "o-pass";
    case Outcome::fail: return "o-fail";
    case Outcome::not_checked: return "o-not-checked";
    case Outcome::not_applicable: return "o-not-applicable";
  }
  return "";
}


std::string verdict_table(const std::vector<CheckResult>& results) {
  std::string rows;
  for (const CheckResult& r : results) {
    const Outcome o = check_outcome(r);
    rows += fmt::format(
        "<tr class=\"check\" data-outcome=\"{}\"><td class=\"{}\">{}</td><td>{}{}</td><td>{}</td><td>{}</td></tr>\n",
        escape(outcome_label(o)), outcome_class(o), escape(outcome_label(o)), escape(r.name),
        r.line ? fmt::format(" <small>(line {})</small>", r.line) : "", escape(r.expected), escape(r.saw));
  }
  return "<table class=\"verdicts\"><tr><th>outcome</th><th>check</th><th>expected</th><th>saw</th></tr>\n" + rows +
         "</table>";
}

}  // namespace

std::string html_page(std::string_view title, const std::string& body, std::string_view extra_style) {
  std::string css(style);
  if (!extra_style.empty()) css.insert(css.size() - std::string_view("</style>").size(), extra_style);
  return fmt::format("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>{}{}</head>"
                     "<body>\n{}\n</body></html>\n",
                     escape(title), css, error_hook, body);
}

std::string verdict_summary(std::size_t checks, const std::vector<CheckResult>& listed) {
  std::size_t count[4] = {0, 0, 0, 0};
  for (const CheckResult& r : listed) ++count[static_cast<std::size_t>(check_outcome(r))];
  count[0] += checks > listed.size() ? checks - listed.size() : 0;
  const Outcome overall = count[1] ? Outcome::fail : Outcome::pass;
  std::string out = fmt::format("<span class=\"{}\">{}</span> {} passed", outcome_class(overall),
                                outcome_label(overall), count[0]);
  if (count[1]) out += fmt::format(", {} failed", count[1]);
  if (count[2]) out += fmt::format(", {} not checked", count[2]);
  if (count[3]) out += fmt::format(", {} n/a", count[3]);
  return out;
}

namespace {
std::string legend(const Trace& trace) {
  std::string out =
      "<p class=\"legend\">Time flows down on a compressed scale (each gap drawn by its order of magnitude: read "
      "times on the axis). Arrows run from the sender when the interceptor saw the segment to the receiver when "
      "it was let through; <span style=\"color:#c62828\">×</span> a dropped segment, dashed pause a held or "
      "delayed one, <span style=\"color:#e65100\">orange</span> a kernel retransmission linked to its original, "
      "<span style=\"color:#6a1b9a\">purple</span> a segment lastack injected. Bands along a lane are that side's "
      "TCP states on the kernel's word, each labelled by the socket that held it: a request socket in SYN_RECV "
      "(dashed outline) until its child, the full socket, exists; a timewait socket in FIN_WAIT_2 or TIME_WAIT "
      "(purple outline) once the full socket closed. A pale stretch at a band's start is the wire's account (the "
      "SYN's or FIN's arrival) before the kernel's evidence; a faded dashed band is inferred from the wire alone. "
      "Hover over an arrow for its fields and roles, over a band for its times and sources. Step through the run "
      "with → and ← (space plays, Home and End go to the start and the whole run) or the buttons; #step-N in the "
      "address links step N; beside the ladder, RFC 9293's state diagram for each side marks its state and the "
      "arrow just taken.</p>";
  if (trace.kernel_source == KernelSource::sampled)
    out += fmt::format("<p class=\"legend note\">Kernel states: {}.</p>", escape(sampling_note));
  // As the text ladder says it: with the wire captured, unqueued segments are still drawn.
  if (!trace.every_segment && trace.whole_wire)
    out += "<p class=\"legend note\">Only segments a rule could select were queued (--capture selective); the "
           "others crossed the wire untouched and are drawn from the wire capture.</p>";
  else if (!trace.every_segment)
    out += "<p class=\"legend note\">Only segments a rule could select were queued (--capture selective): bulk "
           "data is not on this ladder.</p>";
  return out;
}
}  // namespace

std::string render_html_report(const Trace& trace, const std::vector<CheckResult>& results, const HtmlRunInfo& info) {
  std::string body = fmt::format("<h1>{}</h1><p class=\"sub\">{}<br><small>{} · {} · kernel {} · {} segments</small></p>",
                                 escape(info.title), escape(info.summary), escape(info.file),
                                 trace.ipv6 ? "IPv6" : "IPv4", escape(trace.kernel), wire_events(trace).size());
  body += "<p class=\"sub\">Verdict: " + verdict_summary(results.size(), results) + "</p>";
  body += info.preface;
  const std::vector<StateBand> bands = state_bands(trace);
  const WireIndex wire = index_wire(trace);
  body += render_player(render_svg_ladder(trace), play_steps(trace, bands, wire), wire, info.questions) + legend(trace);
  for (const std::string& line : kernel_counter_lines(trace)) body += "<p class=\"counters\">" + escape(line) + "</p>";
  body += verdict_table(results);
  return html_page(info.title, body, player_style());
}

std::string render_html_index(const std::vector<HtmlIndexEntry>& runs) {
  std::string cards;
  for (const HtmlIndexEntry& run : runs) {
    std::string failures;
    for (const CheckResult& r : run.unpassed)
      if (check_outcome(r) != Outcome::pass && check_outcome(r) != Outcome::not_applicable)
        failures += fmt::format("<li class=\"{}\">{}: {}</li>", outcome_class(check_outcome(r)),
                                escape(outcome_label(check_outcome(r))), escape(r.name));
    cards += fmt::format(
        "<div class=\"card\"><h2><a href=\"{}\">{}</a></h2><div>{}</div>{}{}</div>\n", escape(run.page),
        escape(run.title), verdict_summary(run.checks, run.unpassed), failures.empty() ? "" : "<ul>" + failures + "</ul>",
        run.ladder.empty() ? "<p>no ladder</p>" : fmt::format("<a href=\"{}\">{}</a>", escape(run.page), run.ladder));
  }
  return html_page("lastack runs", fmt::format("<h1>lastack: {} run{}</h1><p class=\"sub\">Each ladder links to its full "
                                          "page.</p><div class=\"cards\">\n{}</div>",
                                          runs.size(), runs.size() == 1 ? "" : "s", cards));
}

}  // namespace lastack
