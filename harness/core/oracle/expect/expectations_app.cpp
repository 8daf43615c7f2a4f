// check = "app" where commands are involved: under `lastack exec` the programs are the user's,
// so what can be known of them is how each command ended (exit) and what it printed (output);
// what lastack's agents report (sees, received, sent) describes them only: "not applicable" there.
#include "harness/core/oracle/expect/expectations_app.hpp"

#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/core/oracle/close_order.hpp"
#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/oracle/expect/expectations.hpp"

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

// What a check of the command found: problems fail it, unknowns leave it not checked.
struct CommandFindings {
  std::vector<std::string> seen, problems, unknowns;
};

void judge_exit(const AppEvent* event, int want, CommandFindings& f) {
  const CommandFacts* command = event ? event->command() : nullptr;
  if (!command || !command->exit_status) {
    f.unknowns.push_back("no exit status recorded");
    return;
  }
  f.seen.push_back(event->outcome);
  if (*command->exit_status != want) f.problems.push_back(fmt::format("exit status {}, not {}", *command->exit_status, want));
}

void judge_output(const AppEvent* event, const std::string& pattern, CommandFindings& f) {
  const CommandFacts* command = event ? event->command() : nullptr;
  if (!command || !command->exit_status) {
    f.unknowns.push_back("no output recorded");
    return;
  }
  std::string text;
  for (const std::string& line : command->output) text += line + "\n";
  const std::regex re(pattern, std::regex::ECMAScript | std::regex::multiline);  // the parser checked it
  std::smatch match;
  const std::size_t lines = command->output.size();
  if (std::regex_search(text, match, re)) {
    std::string found = match.str();
    if (found.size() > 60) found = found.substr(0, 57) + "...";
    f.seen.push_back(fmt::format("output ({}) matches at \"{}\"", counted(lines, "line"), found));
  } else if (command->output_truncated) {
    f.unknowns.push_back(fmt::format("no match in the first {} KiB of its output, and the rest was not kept",
                                     app_output_limit / 1024));
  } else {
    f.seen.push_back(fmt::format("output: {}", counted(lines, "line")));
    f.problems.push_back(fmt::format("no match for /{}/ in its output", pattern));
  }
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
  const std::string side = side_label(trace, x.side);
  const std::optional<Side> judged = side_on(trace, x.side);
  std::vector<std::string> wants, expected;
  if (x.sees) wants.push_back(fmt::format("sees {}", *x.sees));
  if (x.received) wants.push_back(fmt::format("received {} bytes", *x.received));
  if (x.sent) wants.push_back(fmt::format("sent {} bytes", *x.sent));
  if (x.exit_status) wants.push_back(fmt::format("exit {}", *x.exit_status));
  if (x.output) wants.push_back(fmt::format("output /{}/", *x.output));
  CheckResult r = expectation(fmt::format("app {} {}", side, join(wants, ", ")), x.line);

  const CheckId id{CheckKind::app, side_subject(trace, x.side), {}};
  CommandFindings f;
  const std::vector<std::string> steps = step_keys(x);
  if (ran_commands(trace)) {
    const AppEvent* command = judged ? command_of(trace, *judged) : nullptr;
    if (x.exit_status) expected.push_back(fmt::format("the {} command exits with status {}", side, *x.exit_status));
    if (x.output) expected.push_back(fmt::format("its output matches /{}/", *x.output));
    // sees, received and sent describe lastack's agents: yours report neither, so they do not apply.
    const std::string agents_only = fmt::format("{} describe{} lastack's own agents (under lastack exec it sees only "
                                                "the commands' exit status and output)",
                                                join(steps, ", "), steps.size() == 1 ? "s" : "");
    if (!x.exit_status && !x.output) {
      r.outcome = Outcome::not_applicable;
      r.expected = fmt::format("{} as lastack's agents would report", join(steps, ", "));
      r.saw = agents_only;
      return worded(std::move(r), id);
    }
    if (x.exit_status) judge_exit(command, *x.exit_status, f);
    if (x.output) judge_output(command, *x.output, f);
    if (!steps.empty()) f.seen.push_back(agents_only + ": not applicable");
  } else {
    // lastack's own agents: their steps are judged as ever; they have no command to exit or print.
    AppExpect agent = x;
    agent.exit_status.reset();
    agent.output.reset();
    if (!steps.empty()) {
      const CheckResult by_steps = check_app(trace, agent);
      expected.push_back(by_steps.expected);
      f.seen.push_back(by_steps.saw);
      if (by_steps.outcome == Outcome::fail) f.problems.emplace_back("the steps differ");
    }
    expected.emplace_back("an exit status or output (lastack exec's commands only)");
    f.unknowns.emplace_back("exit and output judge lastack exec's commands; lastack's own agents have neither");
  }
  r.expected = join(expected, "; ");
  r.outcome = !f.problems.empty() ? Outcome::fail : !f.unknowns.empty() ? Outcome::not_checked : Outcome::pass;
  r.saw = f.seen.empty() ? fmt::format("the {} command", side) : join(f.seen, "; ");
  if (!f.problems.empty()) r.saw += " (" + join(f.problems) + ")";
  if (!f.unknowns.empty()) r.saw += (f.problems.empty() ? ": " : "; not checked: ") + join(f.unknowns);
  return worded(std::move(r), id);
}

}  // namespace lastack
