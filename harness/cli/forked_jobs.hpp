#pragma once
// Independent runs in parallel: each job in a forked child process (its own labs, its own
// namespaces), at most `jobs` at a time, results handed back in job order.
#include <cstddef>
#include <functional>
#include <string>

namespace lastack {

/// What one job produced: the text it would have printed, and its exit code.
struct JobOutput {
  int exit_code = 0;
  std::string text;
};

/// Run job(0..count-1) in forked children, `jobs` at a time; call `done(i, output)` for each in
/// index order as soon as it and every earlier job finished; `started(i)` when job i starts.
/// A child that dies without reporting yields exit code 4 (harness) and a note. Children die
/// with the parent (PR_SET_PDEATHSIG), so a killed lastack leaves no run behind.
void run_forked(std::size_t count, unsigned jobs, const std::function<JobOutput(std::size_t)>& job,
                const std::function<void(std::size_t)>& started,
                const std::function<void(std::size_t, const JobOutput&)>& done);

}  // namespace lastack
