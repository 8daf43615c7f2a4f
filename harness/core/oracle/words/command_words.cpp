// Programs of the user's in words: "exit 0; output (3 lines) matches at \"<title>Directory listing\"".
#include "harness/core/oracle/words/command_words.hpp"

#include <vector>

#include <fmt/format.h>

#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/oracle/words/finding_words.hpp"
#include "harness/core/oracle/words/seen_words.hpp"

namespace lastack {

using namespace detail;

namespace {

// The agents' steps judged as an app check, in words (its name, what it expected and saw).
CheckResult steps_words(const CommandSeen& seen) {
  CheckResult r;
  r.finding = seen.steps.front();
  render_words(r);
  return r;
}

std::string problem_text(const AppClaim& c, const CommandSeen& seen, CommandMiss miss) {
  switch (miss) {
    case CommandMiss::exit_status: {
      const CommandFacts* facts = seen.command ? seen.command->command() : nullptr;
      return fmt::format("exit status {}, not {}", facts ? facts->exit_status.value_or(0) : 0, c.exit_status.value_or(0));
    }
    case CommandMiss::no_match: return fmt::format("no match for /{}/ in its output", c.output.value_or(""));
    case CommandMiss::steps: return "the steps differ";
  }
  return "";
}

std::string doubt_text(CommandDoubt d) {
  switch (d) {
    case CommandDoubt::no_exit_status: return "no exit status recorded";
    case CommandDoubt::no_output: return "no output recorded";
    case CommandDoubt::output_cut:
      return fmt::format("no match in the first {} KiB of its output, and the rest was not kept", app_output_limit / 1024);
    case CommandDoubt::no_command: return "exit and output judge lastack exec's commands; lastack's own agents have neither";
  }
  return "";
}

// "sees, received describe lastack's own agents (under lastack exec it sees only ...)"
std::string agents_only_text(const CommandSeen& seen) {
  return fmt::format("{} describe{} lastack's own agents (under lastack exec it sees only the commands' exit status "
                     "and output)",
                     join(seen.agents_only, ", "), seen.agents_only.size() == 1 ? "s" : "");
}

// What the command did: its exit, its output against the pattern, the keys that do not apply.
std::vector<std::string> command_seen(const AppClaim& c, const CommandSeen& seen) {
  std::vector<std::string> out;
  const CommandFacts* facts = seen.command ? seen.command->command() : nullptr;
  const bool ended = facts && facts->exit_status;
  if (c.exit_status && ended) out.push_back(seen.command->outcome);
  if (c.output && ended) {
    const std::size_t lines = facts->output.size();
    if (seen.match) {
      std::string found = *seen.match;
      if (found.size() > 60) found = found.substr(0, 57) + "...";
      out.push_back(fmt::format("output ({}) matches at \"{}\"", counted(lines, "line"), found));
    } else if (!facts->output_truncated) {
      out.push_back(fmt::format("output: {}", counted(lines, "line")));
    }
  }
  if (!seen.agents_only.empty()) out.push_back(agents_only_text(seen) + ": not applicable");
  return out;
}

}  // namespace

std::string command_name(const CheckSubject& s, const AppClaim& c) {
  std::vector<std::string> wants;
  if (c.sees) wants.push_back(fmt::format("sees {}", *c.sees));
  if (c.received) wants.push_back(fmt::format("received {} bytes", *c.received));
  if (c.sent) wants.push_back(fmt::format("sent {} bytes", *c.sent));
  if (c.exit_status) wants.push_back(fmt::format("exit {}", *c.exit_status));
  if (c.output) wants.push_back(fmt::format("output /{}/", *c.output));
  return fmt::format("app {} {}", subject_side_text(s), join(wants, ", "));
}

std::string command_expected(const Finding& f, const AppClaim& c) {
  const auto* seen = std::get_if<CommandSeen>(&f.saw);
  std::vector<std::string> expected;
  if (seen && seen->ran) {
    if (!c.exit_status && !c.output) return fmt::format("{} as lastack's agents would report", join(seen->agents_only, ", "));
    const std::string side = subject_side_text(f.check.subject);
    if (c.exit_status) expected.push_back(fmt::format("the {} command exits with status {}", side, *c.exit_status));
    if (c.output) expected.push_back(fmt::format("its output matches /{}/", *c.output));
  } else {
    if (seen && !seen->steps.empty()) expected.push_back(steps_words(*seen).expected);
    expected.emplace_back("an exit status or output (lastack exec's commands only)");
  }
  return join(expected, "; ");
}

std::string command_saw(const Finding& f, const AppClaim& c, const CommandSeen& seen) {
  if (seen.ran && !c.exit_status && !c.output) return agents_only_text(seen);
  std::vector<std::string> saw;
  if (seen.ran) saw = command_seen(c, seen);
  else if (!seen.steps.empty()) saw.push_back(steps_words(seen).saw);
  std::vector<std::string> problems, unknowns;
  for (const CommandMiss m : seen.problems) problems.push_back(problem_text(c, seen, m));
  for (const CommandDoubt d : seen.unknowns) unknowns.push_back(doubt_text(d));
  std::string out = saw.empty() ? fmt::format("the {} command", subject_side_text(f.check.subject)) : join(saw, "; ");
  if (!problems.empty()) out += " (" + join(problems) + ")";
  if (!unknowns.empty()) out += (problems.empty() ? ": " : "; not checked: ") + join(unknowns);
  return out;
}

std::string end_name(const Finding& f) {
  const bool client = f.check.subject.resolved.value_or(Side::client) == Side::client;
  if (f.check.kind == CheckKind::command_exit) return "client command exits 0";
  if (f.check.kind == CheckKind::command_ended) return "the command ends";
  return client ? "client function returned" : "server function ended without an exception";
}

std::string end_expected(const Finding& f) {
  const bool client = f.check.subject.resolved.value_or(Side::client) == Side::client;
  if (f.check.kind == CheckKind::command_exit) return "the client command exits 0";
  if (f.check.kind == CheckKind::command_ended) return "the wrapped command ends by itself";
  return client ? "the client function returns by itself, without an exception"
                : "the server function returns without an exception, by itself or when the run stops it";
}

std::string end_saw(const EndSeen& s) {
  if (s.timed_out) return "the run timed out first" + (s.ended ? " (then: " + s.ended->outcome + ")" : std::string());
  return s.ended ? s.ended->outcome : "it never ended";
}

}  // namespace lastack
