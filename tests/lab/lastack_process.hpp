#pragma once
// Lab-test helper: run the lastack binary as a child process and capture what it printed.
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace lastack::test {

struct ProcessOutput {
  int exit_code = -1;
  std::string out, err;
};

/// For INFO: the verdict lines that did not pass (FAIL, NOT CHECKED, harness errors, with their
/// continuation lines) first, then stdout and stderr whole, so a log cut short still shows why.
std::ostream& operator<<(std::ostream& os, const ProcessOutput& output);

/// A directory of this test process's own, /tmp/lastack-TAG-PID, made now and removed with it.
struct TempDir {
  explicit TempDir(const std::string& tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path path;
};

/// `part` in `text`, where a line break and the indentation after it count as one space: the
/// report wraps its verdicts at a width, wherever the words of a run happen to fall.
bool contains(const std::string& text, const std::string& part);

/// DIR/NAME.toml: a policy named NAME (its summary the same) with `body` after the name.
std::filesystem::path write_policy(const TempDir& dir, const std::string& name, const std::string& body);

/// Run `argv` (argv[0] a path), wait, and return its exit code, stdout and stderr.
ProcessOutput run_process(const std::vector<std::string>& argv);

/// Path of the lastack binary under test.
std::string lastack_bin();

/// Run lastack with `args`, policies resolved from the source tree.
ProcessOutput run_lastack(const std::vector<std::string>& args);

/// Catch2 assertions: `lastack run --repeat 3 --jobs 3 policy` (plus `extra` options) exits 0 with
/// every run passing.
void require_passes_three_times(const std::string& policy, const std::vector<std::string>& extra = {});

}  // namespace lastack::test
