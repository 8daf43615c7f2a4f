// One agent step from its text alone, as `lastack agent --step` receives it.
#include <catch2/catch.hpp>

#include <string>

#include "lastack/error.hpp"
#include "lastack/policy_parser.hpp"

using namespace lastack;
using namespace std::chrono_literals;

TEST_CASE("a step text parses as the same step a policy would hold", "[agent_step]") {
  const Step send = parse_agent_step("send 1000", "--step", 2);
  CHECK(send.kind == StepKind::send);
  CHECK(send.bytes == 1000);
  CHECK(send.text == "send 1000");
  const Step sleep = parse_agent_step("sleep 50ms", "--step", 3);
  CHECK(sleep.kind == StepKind::sleep);
  CHECK(sleep.duration == 50ms);
  CHECK(parse_agent_step("exit", "--step", 4).kind == StepKind::exit);
}

TEST_CASE("a bad step text is an input error naming where it came from", "[agent_step]") {
  try {
    (void)parse_agent_step("bogus 3", "--step", 2);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).rfind("--step:2: unknown step \"bogus 3\" (expected one of: connect [PORT] [within D],", 0) == 0);
  }
  CHECK_THROWS_AS(parse_agent_step("send", "--step", 1), InputError);
}
