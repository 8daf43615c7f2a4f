// Policy files: a fault's window, the reset action, reset-to, segment = "any", received-by; and
// the one-line error for each way they can be wrong.
#include <catch2/catch.hpp>

#include <string>

#include "harness/core/report/policy_text.hpp"
#include "lastack/error.hpp"
#include "lastack/policy_parser.hpp"

using namespace lastack;
using namespace std::chrono_literals;

namespace {

/// A policy whose lines 1-5 are fixed (timeout 10s), with `rest` from line 6 on.
std::string policy_with(const std::string& rest) {
  return "name = \"t\"\n"
         "[scenario]\n"
         "client = [\"connect\", \"close\"]\n"
         "server = [\"accept\", \"close\"]\n"
         "timeout = \"10s\"\n" +
         rest;
}

std::string error_of(const std::string& rest) {
  try {
    (void)parse_policy(policy_with(rest), "policies/x.toml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("a dark window: every segment, both ways, from 2s for 3s", "[policy][fault-window]") {
  const Policy p = parse_policy(policy_with("[[fault]]\n"
                                            "segment = \"any\"\n"
                                            "from = \"any\"\n"
                                            "action = \"drop\"\n"
                                            "window = { from = \"2s\", for = \"3s\" }\n"),
                                "t.toml");
  REQUIRE(p.faults.size() == 1);
  const FaultRule& f = p.faults[0];
  CHECK_FALSE(f.match.segment);
  CHECK_FALSE(f.match.from);
  REQUIRE(f.window);
  CHECK(f.window->from == 2s);
  CHECK(f.window->length == Millis(3s));
  CHECK_FALSE(f.window->after);
  CHECK(f.window->line == 10);
  CHECK(describe_fault(f) == "drop every segment in the window from 2s for 3s after the run's start");
}

TEST_CASE("a window as a sub-table anchored after a segment: for alone opens at the anchor",
          "[policy][fault-window]") {
  const Policy p = parse_policy(policy_with("[[fault]]\n"
                                            "action = \"drop\"\n"
                                            "[fault.window]\n"
                                            "for = \"3s\"\n"
                                            "after = { segment = \"data\", from = \"server\", nth = 3 }\n"),
                                "t.toml");
  const FaultWindow& w = *p.faults[0].window;
  CHECK(w.from == 0ms);
  CHECK(w.length == Millis(3s));
  REQUIRE(w.after);
  CHECK(w.after->segment == Role::data);
  CHECK(w.after->from == SideRef(Side::server));
  CHECK(w.after_nth == 3);
}

TEST_CASE("action = reset: the first match by default and both ends unless reset-to names one", "[policy][reset]") {
  const Policy p = parse_policy(policy_with("[[fault]]\n"
                                            "segment = \"data\"\n"
                                            "from = \"server\"\n"
                                            "action = \"reset\"\n"
                                            "[[fault]]\n"
                                            "segment = \"data\"\n"
                                            "action = \"reset\"\n"
                                            "nth = 4\n"
                                            "reset-to = \"client\"\n"),
                                "t.toml");
  CHECK(p.faults[0].action == ActionKind::reset);
  CHECK(p.faults[0].count == 1u);
  CHECK_FALSE(p.faults[0].reset_to);
  CHECK(p.faults[1].nth == 4);
  CHECK(p.faults[1].reset_to == Side::client);
  CHECK(describe_fault(p.faults[1]) == "replace the 4th data by a RST to the client");
}

TEST_CASE("check = reset with received-by: the RSTs a kernel accepted", "[policy][reset]") {
  const Policy p = parse_policy(policy_with("[[expect]]\ncheck = \"reset\"\nreceived-by = \"server\"\ncount = 1\n"), "t.toml");
  const auto& x = std::get<ResetExpect>(p.expect[0]);
  CHECK(x.received_by == Side::server);
  CHECK(x.count == 1u);
}

TEST_CASE("window and reset errors: one line each with file and line", "[policy][fault-window][errors]") {
  CHECK(error_of("[[fault]]\naction = \"drop\"\nwindow = {}\n") ==
        "policies/x.toml:8: window needs from and/or for, e.g. window = { from = \"2s\", for = \"3s\" }");
  CHECK(error_of("[[fault]]\naction = \"drop\"\nwindow = { for = \"0s\" }\n") ==
        "policies/x.toml:8: window.for = \"0ms\": a window that lasts no time never opens");
  CHECK(error_of("[[fault]]\naction = \"drop\"\nwindow = { from = \"12s\", for = \"1s\" }\n") ==
        "policies/x.toml:8: window.from = \"12s\" opens at or after the scenario's timeout (10s): it can never open");
  CHECK(error_of("[[fault]]\naction = \"drop\"\nwindow = { from = \"1s\", until = \"2s\" }\n") ==
        "policies/x.toml:8: unknown key \"until\" in [[fault]] window (expected one of: from, for, after)");
  CHECK(error_of("[[fault]]\naction = \"drop\"\nwindow = \"2s\"\n").starts_with("policies/x.toml:8: "));
  CHECK(error_of("[[fault]]\naction = \"drop\"\nwindow = { from = \"1s\", after = { segment = \"fni\" } }\n") ==
        "policies/x.toml:8: unknown segment \"fni\" (expected one of: syn, syn-ack, handshake-ack, data, ack, fin, "
        "first-fin, second-fin, first-fin-ack, final-ack, rst, retransmission, any)");
  CHECK(error_of("[[fault]]\naction = \"drop\"\nreset-to = \"client\"\n") ==
        "policies/x.toml:8: reset-to is only allowed with action = \"reset\"");
  CHECK(error_of("[[fault]]\naction = \"reset\"\nreset-to = \"nobody\"\n") ==
        "policies/x.toml:8: unknown end \"nobody\" (expected one of: client, server, both)");
  CHECK(error_of("[[expect]]\ncheck = \"reset\"\nreceived-by = \"server\"\nfrom = \"client\"\n") ==
        "policies/x.toml:9: from does not go with received-by (which counts the RSTs a kernel accepted, whoever sent them)");
}
