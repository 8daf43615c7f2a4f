#include "harness/core/report/lesson_site.hpp"

#include <fmt/format.h>

#include "harness/core/report/html_report.hpp"
#include "harness/core/report/svg.hpp"

namespace lastack {

namespace {
using svg::escape;

std::string run_links(const std::vector<const LessonRun*>& runs, const std::string& prefix) {
  std::string out = "<ul class=\"runs\">";
  for (const LessonRun* r : runs)
    out += fmt::format("<li><a href=\"{}{}\"><b>{}</b></a>: {} · {} · <a href=\"{}{}\" download>pcapng</a></li>", prefix,
                       escape(r->page), escape(r->policy), escape(r->summary), verdict_summary(r->checks, r->unpassed),
                       prefix, escape(r->pcap));
  return out + "</ul>";
}

std::string verdict_badge(const ClaimVerdict& v) {
  return fmt::format("<span class=\"verdict {}\">{}</span>", v.css, escape(v.word));
}
}  // namespace

ClaimVerdict claim_verdict(const LessonClaim& claim, const std::vector<const LessonRun*>& runs) {
  for (const LessonRun* r : runs)
    if (r->verdict == RunVerdict::fail)
      return {"the kernel disagreed", "v-disagreed", fmt::format("{} failed on this kernel: see its page", r->policy)};
  for (const LessonRun* r : runs)
    if (r->verdict != RunVerdict::pass)
      return {"not checked", "v-not-checked", fmt::format("{} could not check everything: see its page", r->policy)};
  if (runs.empty()) return {"not checked", "v-not-checked", "no run"};
  return claim.corrected ? ClaimVerdict{"corrected", "v-corrected", ""} : ClaimVerdict{"confirmed", "v-confirmed", ""};
}

std::string claim_preface(const LessonClaim& claim, std::size_t number, const std::vector<const LessonRun*>& runs,
                          const std::string& up) {
  const ClaimVerdict v = claim_verdict(claim, runs);
  return fmt::format(
      "<style>{}</style><div class=\"claim\" id=\"claim\" data-verdict=\"{}\"><p><a href=\"{}\">← the lesson</a></p><h2>Claim {}</h2>"
      "<blockquote lang=\"zh\">{}</blockquote>{}<p>{} {}</p>{}<p>The run below is <b>{}</b>; step through it with → "
      "and ←. Every run behind this claim:</p>{}</div>",
      lesson_style(), escape(v.word), escape(up), number, escape(claim.quote),
      claim.claim.empty() ? "" : "<p class=\"gloss\">" + escape(claim.claim) + "</p>", verdict_badge(v),
      escape(claim.why), v.note.empty() ? "" : "<p class=\"note\">" + escape(v.note) + "</p>",
      runs.empty() ? "" : escape(runs.front()->policy), run_links(runs, ""));
}

std::string question_preface(const LessonQuestion& question, std::size_t number, const std::string& up) {
  return fmt::format(
      "<style>{}</style><div class=\"claim\"><p><a href=\"{}\">← the lesson</a></p><h2>Question {}: predict, then see</h2>{}<p>{}</p>"
      "<p>Press → (or next) to play the run: it stops to ask before the step that answers, and the answer is "
      "the kernel's, from this run.</p></div>",
      lesson_style(), escape(up), number, question.quote.empty() ? "" : "<blockquote lang=\"zh\">" + escape(question.quote) + "</blockquote>",
      escape(question.ask));
}

std::string render_lesson_index(const Lesson& lesson, const std::vector<std::vector<const LessonRun*>>& claim_runs,
                                const std::vector<QuestionLink>& questions, const std::string& kernel) {
  std::string rows;
  for (std::size_t i = 0; i < lesson.claims.size(); ++i) {
    const LessonClaim& c = lesson.claims[i];
    const ClaimVerdict v = claim_verdict(c, claim_runs[i]);
    rows += fmt::format(
        "<tr class=\"claim-row\" data-verdict=\"{}\"><td class=\"n\">{}</td><td><blockquote lang=\"zh\">{}</blockquote>{}"
        "</td><td>{}</td><td>{}{}<p><a href=\"claim-{}.html\">step through the run</a></p>{}</td></tr>\n",
        escape(v.word), i + 1, escape(c.quote), c.claim.empty() ? "" : "<p class=\"gloss\">" + escape(c.claim) + "</p>",
        verdict_badge(v), escape(c.why), v.note.empty() ? "" : "<p class=\"note\">" + escape(v.note) + "</p>", i + 1,
        run_links(claim_runs[i], ""));
  }
  std::string asks;
  for (std::size_t i = 0; i < questions.size(); ++i) {
    const QuestionLink& q = questions[i];
    asks += fmt::format("<li class=\"question-link\">{}{} {}</li>",
                        q.quote.empty() ? "" : "<blockquote lang=\"zh\">" + escape(q.quote) + "</blockquote>",
                        escape(q.ask),
                        q.missing.empty() ? fmt::format("<a href=\"{}\">predict, then see</a>", escape(q.page))
                                          : "<span class=\"note\">not asked: " + escape(q.missing) + "</span>");
  }
  const std::string body = fmt::format(
      "<div class=\"lesson\"><h1>{}</h1>{}<p class=\"sub\">Each verdict comes from runs made just now on kernel {}: "
      "each claim's page steps through its run, segment by segment, with RFC 9293's state diagram for each side; "
      "the pcapng opens in Wireshark.</p><table class=\"claims\"><tr><th>#</th><th>the text says</th><th>verdict</th>"
      "<th>why, and the runs</th></tr>\n{}</table><h2>Predict, then see</h2><ol class=\"questions\">{}</ol>"
      "<p class=\"sub\">Made by <code>lastack lesson</code> from {}.</p></div>",
      escape(lesson.title), lesson.intro.empty() ? "" : "<p>" + escape(lesson.intro) + "</p>", escape(kernel), rows, asks,
      escape(lesson.file.substr(lesson.file.rfind('/') + 1)));
  return html_page(lesson.title, body, lesson_style());
}

std::string_view lesson_style() {
  return R"(
.lesson{font-size:18px;max-width:1500px} .lesson h1{font-size:30px} table.claims td{font-size:17px}
table.claims blockquote,.claim blockquote,.question-link blockquote{font-size:19px;margin:2px 0;padding:4px 10px;border-left:4px solid #1565c0;background:#f5f9ff}
td.n{font-weight:bold;font-size:22px} .gloss{color:#455a64;font-style:italic;margin:4px 0}
.verdict{display:inline-block;padding:3px 10px;border-radius:4px;font-weight:bold;color:#fff;white-space:nowrap}
.v-confirmed{background:#2e7d32} .v-corrected{background:#1565c0} .v-disagreed{background:#c62828} .v-not-checked{background:#ef6c00}
ul.runs{font-size:14px;margin:6px 0;padding-left:18px} .claim{border:2px solid #1565c0;padding:6px 14px;margin:8px 0 12px;font-size:17px;max-width:1400px}
ol.questions li{margin:8px 0}
)";
}

}  // namespace lastack
