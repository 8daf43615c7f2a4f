#pragma once
// `lastack replay FILE.jsonl`: judge a recorded trace again, without a lab.
#include <filesystem>
#include <optional>
#include <string>

namespace lastack {

struct ReplayCommand {
  std::string file;                   // a JSON Lines trace (`lastack run --json`)
  std::optional<std::string> policy;  // name or file; default: the policy named in the trace
  std::filesystem::path policy_dir;
  bool quiet = false;                 // no ladder
  bool color = false;
};

/// Read the trace (every wire segment re-parsed and re-classified), run the oracle with the
/// policy, print ladder and verdicts like a run, and say whether the verdicts match the
/// recorded ones. Returns the run's exit code: 0 every check passed, 1 one failed, 4 the
/// recorded run lost segments at the queue. Throws InputError for an unreadable trace or policy.
int command_replay(const ReplayCommand& cmd);

}  // namespace lastack
