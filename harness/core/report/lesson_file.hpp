#pragma once
// A lesson file (lessons/*.toml): the claims of a text, each with the policies whose
// runs answer it, and the questions to ask before a step of a run. Read strictly, as a policy
// is: unknown keys, a wrong type, an unknown state or role are one line "file:line: what".
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "lastack/roles.hpp"

namespace lastack {

/// One claim of the text and the runs that answer it.
struct LessonClaim {
  std::string quote;                  // the text's own words, verbatim
  std::string claim;                  // what it says, in a line of English (may be empty)
  bool corrected = false;             // the kernel corrects it (else: confirms it)
  std::string why;                    // why, as the runs show it
  std::vector<std::string> policies;  // policy names, the first the one the claim's page steps through
  std::size_t line = 0;
};

/// What a question's answer is, taken from the run.
enum class AnswerKind {
  state,  // `side`'s state right after the step (its segment arrived, its changes made)
  reply,  // what the step's segment drew from its receiver: "ACK", "RST" or "nothing"
  path,   // every state `side` passed through in the run, "LISTEN → SYN_RECV → ..."
};

/// One predict-then-see question.
struct LessonQuestion {
  std::string policy;
  std::string quote;                 // the text it comes from (may be empty)
  std::string ask;                   // one line
  AnswerKind answer = AnswerKind::state;
  Side side = Side::client;          // state and path
  std::optional<Role> before;        // pause before the nth segment with this role (none: before step 1)
  std::size_t nth = 1;
  std::vector<std::string> choices;  // at least two; state: state names; path: "A → B" or "A -> B"; reply: ACK, RST, nothing
  std::size_t line = 0;
};

struct Lesson {
  std::string file;
  std::string title;
  std::string intro;  // one paragraph for the index (may be empty)
  std::vector<LessonClaim> claims;
  std::vector<LessonQuestion> questions;
};

/// Reads a lesson from `text` (`file` names it in errors). Throws InputError "file:line: what".
Lesson parse_lesson(const std::string& text, const std::string& file);

/// The states a path choice names, in order ("LISTEN -> SYN_RECV"); nullopt when a part is not
/// a state.
std::optional<std::vector<std::string>> path_states(const std::string& choice);

}  // namespace lastack
