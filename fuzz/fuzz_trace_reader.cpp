// libFuzzer target: a JSON Lines trace (`lastack replay`'s input) -> RecordedRun
// (read_recorded_run) or InputError. A trace that reads is then used as replay uses it: judged
// against its policy (a shipped one, by name; baseline when the name is unknown), drawn as a
// ladder, its verdicts rendered; and written back, which must read again.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "fuzz/fuzz_support.hpp"
#include "lastack/error.hpp"
#include "lastack/policy_parser.hpp"
#include "lastack/report.hpp"
#include "harness/core/record/trace_reader.hpp"
#include "harness/core/oracle/verdicts.hpp"
#include "lastack/trace_jsonl.hpp"

using namespace lastack;

namespace {

// The shipped policies by name, read once.
const std::map<std::string, Policy>& shipped_policies() {
  static const std::map<std::string, Policy> policies = [] {
    std::map<std::string, Policy> out;
    for (const auto& entry : std::filesystem::directory_iterator(LASTACK_POLICY_DIR)) {
      if (entry.path().extension() != ".toml") continue;
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      Policy policy = parse_policy(text.str(), entry.path().string());
      out.emplace(policy.name, std::move(policy));
    }
    return out;
  }();
  return policies;
}

// What `lastack replay` does with a trace it read.
void replay(const RecordedRun& run) {
  const auto& policies = shipped_policies();
  const auto it = policies.find(run.trace.policy);
  const Policy& policy = it != policies.end() ? it->second : policies.at("baseline");
  const std::vector<CheckResult> results = judge_trace(run.trace, policy);
  (void)render_ladder(run.trace, {false, 100});
  (void)render_verdicts(results, false);
  (void)verdict_differences(run.checks, results);
  std::stringstream written;
  write_jsonl(run.trace, results, written);
  const RecordedRun again = read_recorded_run(written, "rewritten.jsonl");
  fuzz::require(again.trace.events.size() == run.trace.events.size(), "a rewritten trace lost or gained events");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)shipped_policies();  // a shipped policy that does not parse is not the input's fault
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::optional<RecordedRun> run;
  fuzz::expect_only<InputError>([&] {
    std::istringstream in{std::string(fuzz::as_text(data, size))};
    run = read_recorded_run(in, "fuzz.jsonl");
  });
  if (!run) return 0;
  // A trace the reader accepted is the replay's to judge: nothing may throw from here.
  fuzz::expect_only<fuzz::Nothing>([&] { replay(*run); });
  return 0;
}
