#pragma once
// `lastack lesson DIR`: runs the policies behind each claim of a lesson (by default the seed
// texts', lessons/seed-texts.toml beside the policy directory) and writes a browsable site into DIR: index.html, a
// step-through page per claim and per question, and each run's page and pcapng under runs/.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/report/lesson_file.hpp"
#include "lastack/policy.hpp"

namespace lastack {

struct LessonCommand {
  std::string dir;                    // where the site goes (created)
  std::optional<std::string> lesson;  // the lesson file (default: <policy dir>/../lessons/seed-texts.toml)
  std::filesystem::path policy_dir;
  bool ipv6 = false;
};

/// The lesson and every policy it names, read before any lab exists.
struct PreparedLesson {
  Lesson lesson;
  std::vector<Policy> policies;  // each once, in the order the lesson first names it
};

/// The lesson file `cmd` names.
std::filesystem::path lesson_path(const LessonCommand& cmd);

/// Reads the lesson and loads its policies. Throws InputError ("file:line: what") on bad input.
PreparedLesson prepare_lesson(const LessonCommand& cmd);

/// Runs the lesson (lab privileges already entered: as real root, or this throws
/// EnvironmentError in one line, since states would only be sampled) and writes the site;
/// progress on stderr. Exit code: 0 when every run passed, else the runs' combined code.
int command_lesson(const LessonCommand& cmd, const PreparedLesson& prepared);

}  // namespace lastack
