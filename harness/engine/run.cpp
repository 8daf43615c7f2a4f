#include "lastack/run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "harness/core/oracle/cross_examination.hpp"
#include "harness/core/oracle/verdicts.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "harness/engine/lab.hpp"
#include "harness/engine/run_driver.hpp"
#include "harness/engine/run_seed.hpp"

namespace lastack {

RunResult run_policy(const Policy& policy, const RunOptions& options) { return run_policy(policy, options, {}); }

namespace {

RunResult run_once(const Policy& policy, const RunOptions& options, const AgentFactory& make_agent) {
  LabConfig config;
  config.ipv6 = options.ipv6;
  config.sysctls = policy.scenario.sysctls;
  config.mtu = policy.scenario.mtu;
  for (const auto& [key, line] : policy.scenario.sysctl_lines)
    config.sysctl_origin[key] = fmt::format("{}:{}", policy.file, line);
  config.queue_rules = compile_queue_plan(policy, options.capture, options.queue_num, options.ipv6);
  config.capture_wire = options.observe_wire;
  config.loopback = options.loopback;
  if (options.loopback) config.queue_rules = on_loopback(std::move(config.queue_rules), options.ports);
  Lab lab(config);

  RunResult result;
  RunDriver driver(policy, options, lab, make_agent);
  result.trace = driver.run();
  // The timeout is in the trace (a LabEvent of kind timeout): a replay judges it the same way.
  result.results = judge_trace(result.trace, policy);
  result.verdict = run_verdict(result.results);
  return result;
}

}  // namespace

RunResult run_policy(const Policy& policy, const RunOptions& given, const AgentFactory& make_agent) {
  const auto started = std::chrono::steady_clock::now();
  // One seed for every attempt: a repeated attempt is the same experiment.
  RunOptions options = given;
  options.seed = resolve_seed(policy, given.seed);
  RunResult result = run_once(policy, options, make_agent);
  std::vector<std::string> discarded;
  // A tracepoint the kernel did not hand to the BPF programs (seen on a VM whose softirqs ran over
  // a foreign task) leaves the record short, not the experiment wrong: a fresh lab repeats it.
  for (unsigned attempt = 1; attempt < observer_attempts; ++attempt) {
    const bool sources_disagree = std::any_of(result.results.begin(), result.results.end(), [](const CheckResult& r) {
      return r.harness && r.outcome == Outcome::fail;
    });
    if (!sources_disagree && harness_errors(result.trace).empty()) break;
    const auto misses = observer_misses_only(result.trace);
    if (misses.empty()) break;
    discarded.push_back(fmt::format("attempt {} discarded (the kernel observer missed events: {}{})", attempt,
                                    misses.front(),
                                    misses.size() > 1 ? fmt::format("; and {} more", misses.size() - 1) : ""));
    result = run_once(policy, options, make_agent);
  }
  for (auto it = discarded.rbegin(); it != discarded.rend(); ++it)
    result.trace.events.insert(result.trace.events.begin(), LabEvent{Instant{}, *it, LabEventKind::note});
  result.discarded_attempts = std::move(discarded);
  result.wall = std::chrono::steady_clock::now() - started;
  return result;
}

}  // namespace lastack
