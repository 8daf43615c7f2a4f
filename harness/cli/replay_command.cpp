#include "harness/cli/replay_command.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "lastack/error.hpp"
#include "lastack/report.hpp"
#include "harness/core/record/trace_reader.hpp"
#include "harness/core/report/draws_text.hpp"
#include "harness/core/oracle/verdicts.hpp"
#include "lastack/policy_library.hpp"
#include "harness/cli/run_outcome.hpp"

namespace lastack {

namespace {

RecordedRun read_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot read the trace", file));
  return read_recorded_run(in, file);
}

Policy replay_policy(const ReplayCommand& cmd, const Trace& trace) {
  if (cmd.policy) return load_policy(*cmd.policy, cmd.policy_dir);
  try {
    return load_policy(trace.policy, cmd.policy_dir);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: the trace's policy: {} (give the file with --policy)", cmd.file, e.what()));
  }
}

// What the recording said against what the replay says, in a line or a short list.
std::string comparison_text(const RecordedRun& recorded, const std::vector<CheckResult>& results) {
  if (recorded.checks.empty()) return "the trace records no verdicts to compare with\n";
  const auto differences = verdict_differences(recorded.checks, results);
  if (differences.empty()) return "verdicts match the recording\n";
  std::string out = fmt::format("verdicts differ from the recording ({}):\n", differences.size());
  for (const auto& d : differences) out += "  " + d + "\n";
  return out;
}

}  // namespace

int command_replay(const ReplayCommand& cmd) {
  const RecordedRun recorded = read_file(cmd.file);
  const Trace& trace = recorded.trace;
  Policy policy = replay_policy(cmd, trace);
  // The run's link as it ran (--link is not in the policy file): judged under it, read as recorded.
  if (trace.link) policy.link = trace.link;
  const std::vector<CheckResult> results = judge_trace(trace, policy);

  std::string text = fmt::format("== replay of {}: {}\n   ({}; recorded on Linux {}, {}, kernel states {})\n\n",
                                 cmd.file, policy.name, policy.file, trace.kernel, trace.ipv6 ? "IPv6" : "IPv4",
                                 trace.kernel_source == KernelSource::traced ? "traced" : "sampled");
  if (!cmd.quiet) text += render_ladder(trace, {cmd.color, 100}) + "\n";
  // The seed and each fault's draws: what `lastack run --seed N` would decide again.
  if (const std::string draws = render_draws(trace); !draws.empty()) text += draws + "\n";
  if (const std::string link = render_recorded_link(trace); !link.empty()) text += link + "\n";
  text += render_verdicts(results, cmd.color) + "\n";
  text += comparison_text(recorded, results);
  const RunVerdict verdict = run_verdict(results);
  text += fmt::format("{} {} (replayed)\n", verdict_label(verdict), policy.name);
  int code = verdict_exit_code(verdict);
  fail_on_harness_errors(trace, results, text, code);  // as the run did
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  return code;
}

}  // namespace lastack
