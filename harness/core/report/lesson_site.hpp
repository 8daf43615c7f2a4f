#pragma once
// `lastack lesson DIR`'s pages, apart from the step-through runs themselves: the index a teacher
// projects (each claim quoted, its verdict and why, its runs) and the box that opens each claim's
// and each question's page. The verdict a page shows is the lesson's only when every run behind
// the claim passed: a run that failed or could not be checked says so instead.
#include <cstddef>
#include <string>
#include <vector>

#include "harness/core/report/lesson_file.hpp"
#include "lastack/oracle.hpp"

namespace lastack {

/// One policy's run, as the lesson's pages link it.
struct LessonRun {
  std::string policy;
  std::string summary;                // the policy's one line
  std::string page;                   // its step-through page, relative to DIR: "runs/x.html"
  std::string pcap;                   // its pcapng, relative to DIR: "runs/x.pcapng"
  RunVerdict verdict = RunVerdict::fail;
  std::size_t checks = 0;
  std::vector<CheckResult> unpassed;  // checks that did not pass
};

/// What the kernel made of a claim: the lesson's verdict if every run passed, else why not.
struct ClaimVerdict {
  std::string word;  // "confirmed", "corrected", "the kernel disagreed", "not checked"
  std::string css;   // "v-confirmed", "v-corrected", "v-disagreed", "v-not-checked"
  std::string note;  // empty, or which run failed or was not checked
};
/// The verdict of `claim` over its runs.
ClaimVerdict claim_verdict(const LessonClaim& claim, const std::vector<const LessonRun*>& runs);

/// The box opening claim `number`'s page (`up` leads back to the index: "index.html").
std::string claim_preface(const LessonClaim& claim, std::size_t number, const std::vector<const LessonRun*>& runs,
                          const std::string& up);

/// The box opening a question's page.
std::string question_preface(const LessonQuestion& question, std::size_t number, const std::string& up);

/// One question as the index lists it.
struct QuestionLink {
  std::string ask, quote, page;
  std::string missing;  // why the run could not answer it (then no page)
};

/// The index: title, the claims (quoted, verdict and why, the runs with their pages and pcapngs),
/// the predict-then-see questions, and the kernel the runs were made on (`kernel`).
std::string render_lesson_index(const Lesson& lesson, const std::vector<std::vector<const LessonRun*>>& claim_runs,
                                const std::vector<QuestionLink>& questions, const std::string& kernel);

/// The style the lesson's pages add to the report's.
std::string_view lesson_style();

}  // namespace lastack
