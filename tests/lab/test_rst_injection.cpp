// inject-rst on the real kernel: an in-window RST from the wire ends the client's TIME_WAIT at
// once (the default), and is ignored with net.ipv4.tcp_rfc1337 = 1; three runs each, both IP versions.
#include <catch2/catch.hpp>

#include <string>

#include "lastack_process.hpp"

using lastack::test::run_lastack;

// Three runs of each, over IPv4: tests/lab/test_policies.cpp. Here: IPv6, and the ladder.
TEST_CASE("rst-in-timewait and its rfc1337 twin pass over IPv6", "[policy][rst][ipv6]") {
  lastack::test::require_passes_three_times("rst-in-timewait", {"--ipv6"});
  lastack::test::require_passes_three_times("rst-in-timewait-rfc1337", {"--ipv6"});
}

TEST_CASE("the ladder shows the injected RST and the TIME_WAIT it ends", "[policy][rst][ladder]") {
  auto r = run_lastack({"run", "rst-in-timewait"});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  const auto rst = r.out.find("R seq 2 (injected by lab action 1: inject-rst)");
  REQUIRE(rst != std::string::npos);
  CHECK(r.out.find("TIME_WAIT (timer") < rst);
  // The ladder's rows after the RST, up to the blank line before the verdicts: the client's
  // socket (left column, right after the time) is gone.
  const auto ladder_end = r.out.find("\n\n", rst);
  const std::string after_rst = r.out.substr(rst, ladder_end - rst);
  CHECK(after_rst.find(" ms CLOSED") != std::string::npos);
}
