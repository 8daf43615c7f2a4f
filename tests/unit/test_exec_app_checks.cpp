// check = "app" under lastack exec: the commands' exit status and output are judged, and what
// only lastack's own agents could report is "not checked", never passed.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lastack/error.hpp"
#include "harness/core/oracle/expect/expectations.hpp"
#include "harness/core/oracle/program_end.hpp"
#include "lastack/policy_parser.hpp"
#include "lastack/report.hpp"
#include "harness/core/record/trace_reader.hpp"
#include "tests/unit/findings.hpp"
#include "tests/unit/trace_builder.hpp"
#include "lastack/trace_jsonl.hpp"

using namespace lastack;
using namespace lastack::testing;
using Catch::Matchers::Contains;

namespace {

constexpr Side client = Side::client, server = Side::server;

// How lastack exec records a command that ended with `status` after printing `output`.
AppEvent& command(TraceBuilder& b, double at_ms, Side side, int status, std::vector<std::string> output) {
  AppEvent a{ms(at_ms), side, "command", status == 0 ? "exit 0" : fmt::format("exit {}", status), 0,
             status == 0 ? StepResult::ok : StepResult::error, 0, CommandFacts{status, std::move(output), false}};
  b.trace.events.emplace_back(a);
  return std::get<AppEvent>(b.trace.events.back());
}

// An exec run: curl printed a page and exited 0; the server was stopped with SIGTERM.
Trace exec_trace() {
  TraceBuilder b;
  b.wire(0.0, client, "S", 0, 0, 0, {Role::syn});
  command(b, 30.0, client, 0, {"<!DOCTYPE HTML>", "<title>Directory listing for /</title>", "</html>"});
  command(b, 600.0, server, 143, {"198.18.1.2 - - [01/Dec/2026 22:00:00] \"GET / HTTP/1.1\" 200 -"});
  return b.trace;
}

AppExpect app(const std::string& keys) {
  const Policy p = parse_policy("name = \"t\"\n[scenario]\nclient = [\"connect\"]\nserver = [\"accept\"]\n"
                                "[[expect]]\ncheck = \"app\"\n" + keys,
                                "t.toml");
  return std::get<AppExpect>(p.expect.at(0));
}

std::string error_of(const std::string& keys) {
  try {
    (void)app(keys);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("app parses exit and an output regex, and rejects a bad one", "[exec-app]") {
  const AppExpect x = app("side = \"client\"\nexit = 0\noutput = \"Directory listing\"\n");
  CHECK(x.exit_status == 0);
  CHECK(x.output == "Directory listing");
  CHECK(error_of("side = \"client\"\nexit = 256\n") == "t.toml:8: exit must be at most 255");
  CHECK_THAT(error_of("side = \"client\"\noutput = \"(unclosed\"\n"),
             Contains("t.toml:8: output = \"(unclosed\" is not a regular expression (ECMAScript): "));
}

TEST_CASE("under exec, exit and output pass when the command did so", "[exec-app]") {
  const Trace t = exec_trace();
  const CheckResult r = check_app(t, app("side = \"client\"\nexit = 0\noutput = \"^<title>Directory listing\"\n"));
  CHECK(r.outcome == Outcome::pass);
  CHECK(claim<AppClaim>(r).commands);
  CHECK(claim<AppClaim>(r).exit_status == 0);
  const CommandSeen& saw = seen<CommandSeen>(r);
  CHECK(saw.ran);
  REQUIRE(saw.command);
  CHECK(saw.command->command()->exit_status == 0);
  CHECK(saw.match == "<title>Directory listing");
  CHECK(saw.problems.empty());
  // The words, rendered from the finding.
  CHECK(r.name == "app client exit 0, output /^<title>Directory listing/");
  CHECK(r.expected == "the client command exits with status 0; its output matches /^<title>Directory listing/");
  CHECK(r.saw == "exit 0; output (3 lines) matches at \"<title>Directory listing\"");
  CHECK(check_app(t, app("side = \"server\"\noutput = \"GET / HTTP/1\\\\.1\\\" 200\"\n")).outcome == Outcome::pass);
}

TEST_CASE("under exec, exit and output fail when the command did otherwise", "[exec-app]") {
  const Trace t = exec_trace();
  const CheckResult exit = check_app(t, app("side = \"server\"\nexit = 0\n"));
  CHECK(exit.outcome == Outcome::fail);
  CHECK(seen<CommandSeen>(exit).problems == std::vector{CommandMiss::exit_status});
  CHECK(seen<CommandSeen>(exit).command->command()->exit_status == 143);
  CHECK(exit.saw == "exit 143 (exit status 143, not 0)");
  const CheckResult output = check_app(t, app("side = \"client\"\noutput = \"HTTP/1.0 404\"\n"));
  CHECK(output.outcome == Outcome::fail);
  CHECK(seen<CommandSeen>(output).problems == std::vector{CommandMiss::no_match});
  CHECK_FALSE(seen<CommandSeen>(output).match);
  CHECK_THAT(output.saw, Contains("no match for /HTTP/1.0 404/ in its output"));
}

TEST_CASE("under exec, what only the agents could report does not apply, and never passes", "[exec-app]") {
  const Trace t = exec_trace();
  const CheckResult r = check_app(t, app("side = \"server\"\nsees = \"eof\"\nreceived = 1000\n"));
  CHECK(r.outcome == Outcome::not_applicable);
  CHECK(seen<CommandSeen>(r).agents_only == std::vector<std::string>{"sees", "received"});
  CHECK(why_not(r) == Unjudged::nothing_to_judge);
  CHECK_THAT(r.saw, Contains("sees, received describe lastack's own agents"));
  // Beside an exit or output, those are judged alone: a failing exit still fails the check ...
  CHECK(check_app(t, app("side = \"server\"\nsees = \"eof\"\nexit = 0\n")).outcome == Outcome::fail);
  // ... and a right one passes it, saying what did not apply.
  const CheckResult both = check_app(t, app("side = \"client\"\nsent = 10\nexit = 0\n"));
  CHECK(both.outcome == Outcome::pass);
  CHECK_THAT(both.saw, Contains("sent describes lastack's own agents") && Contains("not applicable"));
}

TEST_CASE("output kept only in part leaves a missing match not checked", "[exec-app]") {
  TraceBuilder b;
  command(b, 1.0, client, 0, {"first lines"}).command()->output_truncated = true;
  const CheckResult r = check_app(b.trace, app("side = \"client\"\noutput = \"last line\"\n"));
  CHECK(r.outcome == Outcome::not_checked);
  CHECK(seen<CommandSeen>(r).unknowns == std::vector{CommandDoubt::output_cut});
  CHECK_THAT(r.saw, Contains("no match in the first 64 KiB of its output"));
  CHECK(check_app(b.trace, app("side = \"client\"\noutput = \"first\"\n")).outcome == Outcome::pass);
}

TEST_CASE("lastack's own agents have no exit status or output to judge", "[exec-app]") {
  const Trace t = drop_final_ack_trace();
  const CheckResult r = check_app(t, app("side = \"client\"\nexit = 0\n"));
  CHECK(r.outcome == Outcome::not_checked);
  CHECK_FALSE(seen<CommandSeen>(r).ran);
  CHECK(seen<CommandSeen>(r).unknowns == std::vector{CommandDoubt::no_command});
  CHECK_THAT(r.saw, Contains("lastack's own agents have neither"));
  // Their steps are still judged: a wrong byte count fails.
  const CheckResult steps = check_app(t, app("side = \"server\"\nreceived = 5\nexit = 0\n"));
  CHECK(steps.outcome == Outcome::fail);
  CHECK(seen<CommandSeen>(steps).problems == std::vector{CommandMiss::steps});
  REQUIRE(seen<CommandSeen>(steps).steps.size() == 1);
  CHECK(std::get<AppSeen>(seen<CommandSeen>(steps).steps.front().saw).received == 1000);
  CHECK_THAT(steps.saw, Contains("read 1000 bytes, not 5") && Contains("(the steps differ)"));
  CHECK(check_app(t, app("side = \"server\"\nsees = \"eof\"\nreceived = 1000\n")).outcome == Outcome::pass);
}

TEST_CASE("a command's exit status and output are in the JSON trace and read back", "[exec-app]") {
  Trace t = exec_trace();
  t.client_addresses = {v4(198, 18, 1, 2)};
  std::erase_if(t.events, [](const TraceEvent& e) { return std::holds_alternative<WireEvent>(e); });
  std::ostringstream out;
  write_jsonl(t, {}, out);
  CHECK_THAT(out.str(), Contains("\"exit_status\":143") && Contains("\"output_truncated\":false"));
  std::istringstream in(out.str());
  const Trace back = read_trace_jsonl(in, "exec.jsonl");
  const auto* curl = std::get_if<AppEvent>(&back.events.at(0));
  REQUIRE(curl);
  REQUIRE(curl->command());
  CHECK(curl->command()->exit_status == 0);
  CHECK(curl->command()->output.size() == 3);
  CHECK(curl->command()->output[1] == "<title>Directory listing for /</title>");
  // An agent's step writes no such fields: format 1 traces without them read as before.
  AppEvent step{ms(1), client, "send 1000", "ok", 1000, StepResult::ok, 0, AgentStepFacts{StepKind::send}};
  CHECK_FALSE(trace_event_json(step).contains("exit_status"));
}

TEST_CASE("command-exit passes on the client command's exit 0 and fails on another status or none", "[exec-app]") {
  const CheckResult ok = check_command_exit(exec_trace());
  CHECK(ok.outcome == Outcome::pass);
  REQUIRE(seen<EndSeen>(ok).ended);
  CHECK(seen<EndSeen>(ok).ended->result == StepResult::ok);
  CHECK(ok.name == "client command exits 0");
  CHECK(ok.saw == "exit 0");
  // Mutated: the client's command exited 28 (curl's timeout).
  Trace t = exec_trace();
  for (TraceEvent& ev : t.events)
    if (auto* a = std::get_if<AppEvent>(&ev); a && a->side == client) {
      a->result = StepResult::error;
      a->outcome = "exit 28";
      a->command()->exit_status = 28;
    }
  const CheckResult failed = check_command_exit(t);
  CHECK(failed.outcome == Outcome::fail);
  CHECK(failed.saw == "exit 28");
  const CheckResult never = check_command_exit(drop_final_ack_trace());  // agents: no command ended
  CHECK(never.outcome == Outcome::fail);
  CHECK_FALSE(seen<EndSeen>(never).ended);
  CHECK(never.saw == "it never ended");
}

TEST_CASE("function-ended passes a returned function and a stopped server, fails one that threw", "[exec-app]") {
  TraceBuilder b;
  AppEvent& c = command(b, 10.0, client, 0, {});
  c.outcome = "returned";
  AppEvent& s = command(b, 20.0, server, 0, {});
  s.result = StepResult::aborted;
  s.outcome = "stopped";
  CHECK(check_function_ended(b.trace, server).outcome == Outcome::pass);
  CHECK(check_function_ended(b.trace, server).name == "server function ended without an exception");
  const CheckResult r = check_function_ended(b.trace, client);
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.name == "client function returned");
  CHECK(r.saw == "returned");
  // Mutated: the client's function threw; a stopped client never returned by itself.
  for (TraceEvent& ev : b.trace.events)
    if (auto* a = std::get_if<AppEvent>(&ev); a && a->side == client) {
      a->result = StepResult::error;
      a->outcome = "threw: the reply was wrong";
    }
  CHECK(check_function_ended(b.trace, client).outcome == Outcome::fail);
  CHECK(check_function_ended(b.trace, client).saw == "threw: the reply was wrong");
  CHECK(seen<EndSeen>(check_function_ended(b.trace, client)).ended->result == StepResult::error);
}
