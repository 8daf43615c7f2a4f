// An application's tests against the installed lastack (find_package(lastack), lastack::lastack).
// CTest's "package: find_package consumer builds and passes" builds and runs this out of tree.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>
#include <lastack/lastack.hpp>
#include <string>

namespace {
// Our protocol's close must survive the loss of the client's final ACK.
constexpr const char* kLostFinalAck = R"(
name = "my-app-lost-final-ack"
summary = "The client's last ACK is lost once; the server's FIN comes again and is answered"

[scenario]
client = ["connect", "send 100", "close"]
server = ["accept", "recv-until-eof", "close"]

[[fault]]
segment = "final-ack"
from = "client"
nth = 1
action = "drop"

[[expect]]
check = "retransmitted"
segment = "fin"
from = "server"
after = "rto"
)";
}  // namespace

TEST_CASE("an inline policy parses, and a malformed one is one line naming where", "[consumer]") {
  CHECK(lastack::parse_policy(kLostFinalAck, "my_app_tests.cpp").name == "my-app-lost-final-ack");
  try {
    lastack::parse_policy("name = \"x\"\n[scenario]\nclient = [\"connect\"]\nserver = [\"acept\"]\n", "inline");
    FAIL("parse_policy accepted an unknown step");
  } catch (const lastack::InputError& e) {
    CHECK(std::string(e.what()).rfind("inline:4: ", 0) == 0);
  }
}

TEST_CASE("a shipped policy, found where the package installed it, passes on the real kernel", "[consumer]") {
  // LASTACK_POLICY_DIR comes with lastack::lastack: the installed share/lastack/policies.
  const auto policy = lastack::load_policy("drop-syn", lastack::policy_dir(LASTACK_POLICY_DIR));
  const auto result = lastack::run_policy(policy, lastack::RunOptions{});
  INFO(lastack::render_ladder(result.trace) << lastack::render_verdicts(result.results));
  REQUIRE(result.passed());
}

int main(int argc, char* argv[]) {
  try {
    lastack::sys::enter_lab_privileges();  // first, while single-threaded
  } catch (const lastack::Error& e) {
    std::fprintf(stderr, "my_app_tests: %s\n", e.what());
    return static_cast<int>(e.code());
  }
  return Catch::Session().run(argc, argv);
}
