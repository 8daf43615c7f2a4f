// How an application's own test suite uses lastack as a library: a policy written inline,
// run on the real kernel, with assertions on what the kernel did. Built as `example_library`
// and run by CTest in the lab tier, so this example cannot rot.
// main() is examples/lab_main.cpp's: it enters lab privileges, then runs these tests.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <variant>

#include "lastack/lastack.hpp"

namespace {
// A fault your protocol must survive: the server's FIN is lost once.
constexpr const char* kLostServerFin = R"(
name = "my-app-lost-fin"
summary = "Our server's FIN is lost once; the close must still complete"

[scenario]
client = ["connect", "send 4096", "recv-until-eof", "close"]
server = ["accept", "recv 4096", "send 512", "close"]

[[fault]]
segment = "fin"
from = "server"
nth = 1
action = "drop"

[[expect]]
check = "retransmitted"
segment = "fin"
from = "server"
after = "rto"

[[expect]]
check = "app"
side = "client"
received = 512
sees = "eof"
)";

const lastack::CheckResult* find_check(const lastack::RunResult& r, std::string_view prefix) {
  auto it = std::find_if(r.results.begin(), r.results.end(),
                         [&](const lastack::CheckResult& c) { return c.name.rfind(prefix, 0) == 0; });
  return it == r.results.end() ? nullptr : &*it;
}
}  // namespace

TEST_CASE("an inline policy runs on the real kernel and every verdict holds", "[example]") {
  const auto policy = lastack::parse_policy(kLostServerFin, "library_usage.cpp");
  const auto result = lastack::run_policy(policy, lastack::RunOptions{});
  INFO(lastack::render_ladder(result.trace) << lastack::render_verdicts(result.results));
  REQUIRE(result.passed());

  // Individual verdicts carry what was expected and what was seen, in words.
  const auto* fin = find_check(result, "retransmitted fin from server");
  REQUIRE(fin != nullptr);
  CHECK(fin->saw.find("same seq") != std::string::npos);

  // The trace is data: count what the interceptor dropped.
  const auto dropped = std::count_if(result.trace.events.begin(), result.trace.events.end(), [](const auto& e) {
    const auto* w = std::get_if<lastack::WireEvent>(&e);
    return w && w->fate == lastack::Fate::dropped;
  });
  CHECK(dropped == 1);
}

TEST_CASE("a shipped policy runs by name, over IPv6", "[example]") {
  const auto policy = lastack::load_policy("drop-syn", lastack::policy_dir(LASTACK_POLICY_DIR));
  lastack::RunOptions options;
  options.ipv6 = true;
  const auto result = lastack::run_policy(policy, options);
  INFO(lastack::render_verdicts(result.results));
  CHECK(result.passed());
}

TEST_CASE("a malformed inline policy is one line naming where", "[example]") {
  try {
    lastack::parse_policy("name = \"x\"\n[scenario]\nclient = [\"connect\"]\nserver = [\"acept\"]\n", "inline");
    FAIL("parse_policy accepted an unknown step");
  } catch (const lastack::InputError& e) {
    CHECK(std::string(e.what()).rfind("inline:4: ", 0) == 0);
  }
}
