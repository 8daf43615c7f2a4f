// The leaky echo server's suite (examples/leaky_server) is registered as an expected failure;
// this checks it fails for the reason it exists: its output names the socket left in CLOSE_WAIT.
#include <catch2/catch.hpp>

#include <string>

#include "lastack_process.hpp"

TEST_CASE("the leaky echo server's suite fails naming the server socket it left in CLOSE_WAIT", "[example]") {
  const lastack::test::ProcessOutput p = lastack::test::run_process({LASTACK_ECHO_LEAKY_BIN});
  INFO(p.out << p.err);
  CHECK(p.exit_code != 0);
  CHECK(p.out.find("FAILED: no server socket held in CLOSE_WAIT at the end: server socket 198.18.2.2:8080 ← "
                   "198.18.1.2:") != std::string::npos);
  CHECK(p.out.find("(connection 1) held CLOSE_WAIT for ") != std::string::npos);
  CHECK(p.out.find("still in it at the end") != std::string::npos);
  // The fault fired and everything else held: the leak is the only failed policy check.
  CHECK(p.out.find("FAILED: retransmitted") == std::string::npos);
  CHECK(p.out.find("FAILED: client function returned") == std::string::npos);
}
