// run_policy with the user's own code as the endpoints (in_process.hpp): the run's agent factory
// makes InProcessRunners, and the verdicts add how the user's functions ended.
#include "lastack/in_process.hpp"

#include <fmt/format.h>

#include <memory>
#include <utility>
#include <vector>

#include "agents/agent.hpp"
#include "lastack/error.hpp"
#include "harness/core/oracle/program_end.hpp"
#include "harness/engine/in_process_runner.hpp"
#include "harness/engine/lab.hpp"

namespace lastack {

namespace {

// `app` expectations judge lastack's own agents' steps; the user's code reports none, so each is
// "not checked" (never passed: the run is inconclusive while the policy asks one).
std::vector<CheckResult> split_off_app_expectations(Policy& policy) {
  std::vector<CheckResult> unchecked;
  std::vector<Expectation> kept;
  for (Expectation& e : policy.expect) {
    const auto* app = std::get_if<AppExpect>(&e);
    if (!app) {
      kept.push_back(std::move(e));
      continue;
    }
    unchecked.push_back({fmt::format("app {} (line {})", side_ref_name(app->side), app->line), false,
                         Outcome::not_checked, "what the app's steps returned",
                         "the code is yours, run in-process: lastack sees only how its function ended", app->line});
  }
  policy.expect = std::move(kept);
  return unchecked;
}

}  // namespace

RunResult run_policy(const Policy& given, const RunOptions& options, const InProcess& code) {
  if (!code.server || !code.client)
    throw InputError(fmt::format("run_policy(InProcess): the {} function is missing (both are required)",
                                 code.server ? "client" : "server"));
  Policy policy = given;
  policy.scenario.finish_with = Side::client;  // the run ends (after settle) when the client function returns
  std::vector<CheckResult> unchecked = split_off_app_expectations(policy);
  const AgentFactory make_runner = [&code](AgentConfig config, const Lab& lab, asio::io_context& io,
                                           const RunClock& clock) {
    InProcessConfig side;
    side.side = config.side;
    side.function = config.side == Side::server ? code.server : code.client;
    side.server = config.endpoint;
    side.client_address = lab.addresses().endpoint.client.str();
    side.on_event = std::move(config.on_event);
    return std::make_unique<InProcessRunner>(io, clock, lab.side(config.side), std::move(side));
  };
  RunResult result = run_policy(policy, options, make_runner);
  result.results.push_back(check_function_ended(result.trace, Side::client));
  result.results.push_back(check_function_ended(result.trace, Side::server));
  result.results.insert(result.results.end(), unchecked.begin(), unchecked.end());
  result.verdict = run_verdict(result.results);
  return result;
}

}  // namespace lastack
