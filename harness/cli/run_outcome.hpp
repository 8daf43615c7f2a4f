#pragma once
// One run of `lastack run`, rendered: its summary row, the checks a report needs, its text and
// exit code; how a forked run hands it to its parent; the JUnit case and the summary table.
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/report/junit.hpp"
#include "lastack/oracle.hpp"
#include "lastack/policy.hpp"
#include "harness/cli/commands.hpp"
#include "harness/cli/forked_jobs.hpp"

namespace lastack {

/// One line of the summary table.
struct Row {
  std::string policy;
  unsigned round = 1;
  RunVerdict verdict = RunVerdict::fail;
  std::size_t checks = 0, passed = 0, failed = 0, unchecked = 0;
  double wall = 0;  // seconds
};

struct RunOutcome {
  Row row;
  std::vector<CheckResult> reported;  // failed checks and the policy's unchecked ones (JUnit)
  std::string note;                   // the sampling note, when states were sampled
  std::string text;                   // what the run prints: ladder, verdicts, result line
  int exit_code = 0;
};

/// Seconds as a double.
double seconds(Duration d);

/// `base` is the file for a single run, or a directory (one file per run, named after the
/// policy and round) when several runs write or `base` names a directory.
std::filesystem::path output_path(const std::string& base, const std::string& policy, unsigned round,
                                  bool several, std::string_view extension);
/// Opens `path` for a trace file, or throws InputError saying in one line why it cannot.
std::ofstream open_output(const std::filesystem::path& path, std::string_view what);

/// The process exit code of a run's verdict (0, 1, 5).
int verdict_exit_code(RunVerdict v);
/// Fail closed: segments the kernel could not queue were never judged, and a harness error (the
/// lab's own, or a check whose failure is the lab's: its sources disagree) means the trace is not
/// the whole truth, so the run proves nothing: one line each in `text`, exit 4.
void fail_on_harness_errors(const Trace& trace, const std::vector<CheckResult>& results, std::string& text, int& code);
/// The exit code of several runs: errors (2, 3, 4) over failures (1) over inconclusive (5) over 0.
int combine_exit_codes(int a, int b);

/// One run of one policy, rendered; also writes its JSON and pcapng traces when asked.
RunOutcome execute(const RunCommand& cmd, const Policy& policy, unsigned round, bool several);

/// A forked run's report to its parent: a "row {json}" line, "check {json}" lines, then its text.
std::string encode_outcome(const RunOutcome& o);
/// The parent's reading of a forked run's output (a child that died early has only its text).
RunOutcome decode_outcome(const JobOutput& out, const Policy& policy, unsigned round);

/// The JUnit case of a run (an error for exit codes 2, 3, 4).
JUnitCase junit_case(const RunOutcome& o);
/// Writes the JUnit report, or throws InputError.
void write_junit(const std::string& path, const std::vector<JUnitCase>& cases, double total);

/// The summary table after several runs, with "N runs: P passed, F failed, I inconclusive".
void print_summary(const std::vector<Row>& rows, double total);

}  // namespace lastack
