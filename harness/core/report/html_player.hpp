#pragma once
// The step-through player of the HTML page: controls, the RFC 9293 diagrams beside the ladder,
// the list of steps (a link to each: #step-N), the questions a page asks before a step, and the
// one inline script that plays them. Without script the page shows the whole run, the steps as
// a list, and each question with its answer folded away.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/report/step_list.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// A question the page asks before a step, with the run's own answer (lesson_question.hpp
/// resolves a lesson's question against the trace into one).
struct PageQuestion {
  std::size_t before = 0;            // the step (index into the play steps) it pauses before
  std::string ask;                   // the question, one line
  std::string quote;                 // the text it comes from, verbatim (may be empty)
  std::vector<std::string> choices;  // as the page shows them
  std::string answer;                // the kernel's answer, in words ("FIN_WAIT_2")
  std::optional<std::size_t> correct;  // the choice that is the kernel's answer; none: no choice is
  std::string evidence;              // where in the run the answer comes from, one line
};

/// The player's CSS (goes into the page's <style>).
std::string_view player_style();

/// The player for one run: controls (hidden until the script runs), the ladder `ladder_svg`
/// with a diagram per side beside it, the step list, the questions, the step data and the
/// script. `steps` are play_steps over `wire` and the `bands` the ladder drew.
std::string render_player(const std::string& ladder_svg, const std::vector<PlayStep>& steps, const WireIndex& wire,
                          const std::vector<PageQuestion>& questions);

/// One step in words: "12.3 ms · client → server F. seq 1 ack 1 len 0 (first-fin) · client:
/// ESTABLISHED → FIN_WAIT_1 (close(), snd FIN)".
std::string step_text(const PlayStep& step, const WireIndex& wire);

}  // namespace lastack
