#pragma once
// A lesson's question put to one run: the step the page pauses before, and the kernel's answer
// taken from the run's steps (never from the lesson's text), with the choice it matches.
#include <optional>
#include <string>
#include <vector>

#include "harness/core/report/html_player.hpp"
#include "harness/core/report/lesson_file.hpp"
#include "harness/core/report/step_list.hpp"

namespace lastack {

/// The question on a run, or why the run cannot answer it.
struct QuestionOnRun {
  std::optional<PageQuestion> page;
  std::string missing;  // "the run has no first-fin-ack segment": set when `page` is not
};

/// Puts `question` to the run whose play steps are `steps` over `wire`.
QuestionOnRun answer_on_run(const LessonQuestion& question, const std::vector<PlayStep>& steps, const WireIndex& wire);

}  // namespace lastack
