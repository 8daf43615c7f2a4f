// check = "app" where commands are involved: under `lastack exec` the programs are the user's,
// so what can be known of them is how each command ended (exit) and what it printed (output);
// what lastack's agents report (sees, received, sent) describes them only: "not applicable" there.
#include "harness/core/oracle/expect/expectations_app.hpp"

#include <regex>
#include <string>
#include <vector>

#include "harness/core/oracle/close_order.hpp"
#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/oracle/expect/expectations.hpp"
#include "harness/core/oracle/words/finding_words.hpp"

namespace lastack {

using namespace detail;

bool ran_commands(const Trace& trace) {
  for (const TraceEvent& ev : trace.events)
    if (const auto* a = std::get_if<AppEvent>(&ev); a && a->command() && a->command()->exit_status) return true;
  return false;
}

bool judges_commands(const Trace& trace, const AppExpect& x) {
  return x.exit_status || x.output || ran_commands(trace);
}

namespace {

// The side's command: the last command event (there is one per command, when it ended).
const AppEvent* command_of(const Trace& trace, Side side) {
  const AppEvent* found = nullptr;
  for (const TraceEvent& ev : trace.events)
    if (const auto* a = std::get_if<AppEvent>(&ev); a && a->command() && a->command()->exit_status && a->side == side)
      found = a;
  return found;
}

void judge_exit(const AppEvent* event, int want, CommandSeen& seen) {
  const CommandFacts* command = event ? event->command() : nullptr;
  if (!command || !command->exit_status) {
    seen.unknowns.push_back(CommandDoubt::no_exit_status);
    return;
  }
  if (*command->exit_status != want) seen.problems.push_back(CommandMiss::exit_status);
}

void judge_output(const AppEvent* event, const std::string& pattern, CommandSeen& seen) {
  const CommandFacts* command = event ? event->command() : nullptr;
  if (!command || !command->exit_status) {
    seen.unknowns.push_back(CommandDoubt::no_output);
    return;
  }
  std::string text;
  for (const std::string& line : command->output) text += line + "\n";
  const std::regex re(pattern, std::regex::ECMAScript | std::regex::multiline);  // the parser checked it
  std::smatch match;
  if (std::regex_search(text, match, re))
    seen.match = match.str();
  else if (command->output_truncated)
    seen.unknowns.push_back(CommandDoubt::output_cut);
  else
    seen.problems.push_back(CommandMiss::no_match);
}

std::vector<std::string> step_keys(const AppExpect& x) {
  std::vector<std::string> keys;
  if (x.sees) keys.emplace_back("sees");
  if (x.received) keys.emplace_back("received");
  if (x.sent) keys.emplace_back("sent");
  return keys;
}

}  // namespace

CheckResult check_app_commands(const Trace& trace, const AppExpect& x) {
  const std::optional<Side> side = side_on(trace, x.side);
  Finding f{CheckId{CheckKind::app, side_subject(trace, x.side), {}},
            AppClaim{x.sees, x.received, x.sent, x.stale_from, x.exit_status, x.output, true}, NothingSeen{}, {}, {}, {}};
  CommandSeen seen;
  seen.agents_only = step_keys(x);
  seen.ran = ran_commands(trace);
  if (seen.ran) {
    if (const AppEvent* command = side ? command_of(trace, *side) : nullptr) seen.command = *command;
    // sees, received and sent describe lastack's agents: yours report neither, so they do not apply.
    if (!x.exit_status && !x.output) {
      f.saw = std::move(seen);
      f.why_not = NotChecked{Unjudged::nothing_to_judge, {}, {}};
      return judged(std::move(f), Outcome::not_applicable, x.line);
    }
    if (x.exit_status) judge_exit(seen.command ? &*seen.command : nullptr, *x.exit_status, seen);
    if (x.output) judge_output(seen.command ? &*seen.command : nullptr, *x.output, seen);
  } else {
    // lastack's own agents: their steps are judged as ever; they have no command to exit or print.
    AppExpect agent = x;
    agent.exit_status.reset();
    agent.output.reset();
    if (!seen.agents_only.empty()) {
      const CheckResult by_steps = check_app(trace, agent);
      seen.steps.push_back(by_steps.finding);
      if (by_steps.outcome == Outcome::fail) seen.problems.push_back(CommandMiss::steps);
    }
    seen.unknowns.push_back(CommandDoubt::no_command);
  }
  const Outcome outcome = !seen.problems.empty()   ? Outcome::fail
                          : !seen.unknowns.empty() ? Outcome::not_checked
                                                   : Outcome::pass;
  if (outcome == Outcome::not_checked) f.why_not = NotChecked{Unjudged::no_command, {}, {}};
  f.saw = std::move(seen);
  return judged(std::move(f), outcome, x.line);
}

}  // namespace lastack
