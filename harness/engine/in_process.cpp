// run_policy with the user's own code as the endpoints (in_process.hpp): the run's agent factory
// makes InProcessRunners, and the verdicts add how the user's functions ended.
#include "lastack/in_process.hpp"

#include <fmt/format.h>

#include <memory>
#include <utility>
#include <vector>

#include "agents/agent.hpp"
#include "lastack/error.hpp"
#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/oracle/program_end.hpp"
#include "harness/core/oracle/words/finding_words.hpp"
#include "harness/engine/in_process_runner.hpp"
#include "harness/engine/lab.hpp"

namespace lastack {

namespace {

// `app` expectations judge lastack's own agents' steps; the user's code reports none.
std::vector<AppExpect> split_off_app_expectations(Policy& policy) {
  std::vector<AppExpect> apps;
  std::vector<Expectation> kept;
  for (Expectation& e : policy.expect) {
    if (const auto* app = std::get_if<AppExpect>(&e)) apps.push_back(*app);
    else kept.push_back(std::move(e));
  }
  policy.expect = std::move(kept);
  return apps;
}

// Each such expectation is "not checked" (never passed: the run is inconclusive while the policy
// asks one).
CheckResult app_not_checked(const Trace& trace, const AppExpect& x) {
  Finding f{CheckId{CheckKind::app, detail::side_subject(trace, x.side), {}},
            AppClaim{x.sees, x.received, x.sent, x.stale_from, x.exit_status, x.output, false}, NothingSeen{}, {}, {}, {}};
  f.why_not = NotChecked{Unjudged::other, "the code is yours, run in-process: lastack sees only how its function ended", {}};
  return judged(std::move(f), Outcome::not_checked, x.line);
}

}  // namespace

RunResult run_policy(const Policy& given, const RunOptions& options, const InProcess& code) {
  if (!code.server || !code.client)
    throw InputError(fmt::format("run_policy(InProcess): the {} function is missing (both are required)",
                                 code.server ? "client" : "server"));
  Policy policy = given;
  policy.scenario.finish_with = Side::client;  // the run ends (after settle) when the client function returns
  const std::vector<AppExpect> apps = split_off_app_expectations(policy);
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
  for (const AppExpect& x : apps) result.results.push_back(app_not_checked(result.trace, x));
  result.verdict = run_verdict(result.results);
  return result;
}

}  // namespace lastack
