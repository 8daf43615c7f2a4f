#include <catch2/catch.hpp>

#include "harness/core/netstat.hpp"

using namespace lastack;

TEST_CASE("netstat_counter reads a counter by group and name") {
  const std::string text =
      "TcpExt: SyncookiesSent SyncookiesRecv TCPTimeWaitOverflow\n"
      "TcpExt: 0 0 3\n"
      "IpExt: InNoRoutes TCPTimeWaitOverflow\n"
      "IpExt: 7 9\n";
  CHECK(netstat_counter(text, "TcpExt", "TCPTimeWaitOverflow") == 3);
  CHECK(netstat_counter(text, "TcpExt", "SyncookiesSent") == 0);
  CHECK(netstat_counter(text, "IpExt", "InNoRoutes") == 7);
  CHECK_FALSE(netstat_counter(text, "TcpExt", "Missing"));
  CHECK_FALSE(netstat_counter(text, "MPTcpExt", "TCPTimeWaitOverflow"));
  CHECK_FALSE(netstat_counter("", "TcpExt", "TCPTimeWaitOverflow"));
  CHECK_FALSE(netstat_counter("TcpExt: A\nTcpExt: x\n", "TcpExt", "A"));
}
