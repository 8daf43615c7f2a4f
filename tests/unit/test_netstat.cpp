#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>

#include "lastack/netstat.hpp"
#include "harness/core/base/netstat.hpp"

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

namespace {
// A file recorded from a fresh network namespace (tests/fixtures/proc-net): "start" with only lo
// up, "end" after one loopback connection sent 1000 bytes and the client closed with SO_LINGER 0.
std::string proc_net_fixture(const std::string& name) {
  std::ifstream in(std::string(LASTACK_FIXTURES) + "/proc-net/" + name, std::ios::binary);
  REQUIRE(in);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

TEST_CASE("parse_counters reads every counter of a real /proc/net/snmp and /proc/net/netstat") {
  const auto snmp = parse_counters(proc_net_fixture("snmp.end"));
  const auto netstat = parse_counters(proc_net_fixture("netstat.end"));
  REQUIRE(snmp);
  REQUIRE(netstat);
  CHECK(snmp->size() == 82);  // Ip, Icmp, IcmpMsg-less (nothing counted), Tcp, Udp, UdpLite
  CHECK(netstat->size() == 229);  // TcpExt, IpExt, MPTcpExt
  CHECK(snmp->at("Tcp.OutRsts") == 1);
  CHECK(snmp->at("Tcp.ActiveOpens") == 1);
  CHECK(snmp->at("Tcp.EstabResets") == 2);
  CHECK(snmp->at("Tcp.RtoMax") == 120000);
  CHECK(snmp->at("Tcp.MaxConn") == static_cast<std::uint64_t>(-1));  // printed as -1
  CHECK(snmp->at("Ip.DefaultTTL") == 64);
  CHECK(netstat->at("TcpExt.TCPAbortOnData") == 1);
  CHECK(netstat->at("TcpExt.PAWSEstab") == 0);
  CHECK(netstat->count("MPTcpExt.MPCapableSYNRX") == 1);
  CHECK(netstat->count("PAWSEstab") == 0);  // always Group.Name
  // The old single-counter reader agrees with the whole parse.
  CHECK(netstat_counter(proc_net_fixture("netstat.end"), "TcpExt", "TCPAbortOnData") == 1);
}

TEST_CASE("counter_deltas: each counter's change, unchanged ones kept, new names from 0, gauges signed") {
  CounterSnapshot start = *parse_counters(proc_net_fixture("snmp.start"));
  CounterSnapshot end = *parse_counters(proc_net_fixture("snmp.end"));
  const CounterDeltas real = counter_deltas(start, end);
  CHECK(real.size() == end.size());
  CHECK(real.at("Tcp.OutRsts") == 1);
  CHECK(real.at("Tcp.InSegs") == 6);
  CHECK(real.at("Tcp.MaxConn") == 0);
  CHECK(real.at("Tcp.CurrEstab") == 0);
  // Tcp.InSegs and Tcp.OutSegs changed too: routine, the wire shows them.
  CHECK(tcp_counter_text(real) == "Tcp.ActiveOpens +1, Tcp.EstabResets +2, Tcp.OutRsts +1, Tcp.PassiveOpens +1");
  CHECK(tcp_counter_text({{"TcpExt.TCPPureAcks", 4}, {"TcpExt.TCPDelivered", 2}}).empty());

  const CounterDeltas made = counter_deltas({{"Tcp.CurrEstab", 2}, {"Udp.InDatagrams", 5}},
                                            {{"Tcp.CurrEstab", 1}, {"Udp.InDatagrams", 5}, {"IcmpMsg.OutType3", 2}});
  CHECK(made == CounterDeltas{{"Tcp.CurrEstab", -1}, {"Udp.InDatagrams", 0}, {"IcmpMsg.OutType3", 2}});
  CHECK(tcp_counter_text(made) == "Tcp.CurrEstab -1");  // only Tcp and TcpExt are listed
  CHECK(tcp_counter_text({{"TcpExt.PAWSEstab", 3}, {"MPTcpExt.MPTCPRetrans", 1}, {"Tcp.OutRsts", 0}}) ==
        "TcpExt.PAWSEstab +3");
}

TEST_CASE("parse_counters rejects what is not the kernel's shape") {
  CHECK(parse_counters("")->empty());
  CHECK(parse_counters("Tcp: A B\nTcp: 1 2\n\n") == CounterSnapshot{{"Tcp.A", 1}, {"Tcp.B", 2}});
  CHECK(parse_counters("Tcp: A B\nTcp: -2 18446744073709551615\n") ==
        CounterSnapshot{{"Tcp.A", static_cast<std::uint64_t>(-2)}, {"Tcp.B", 18446744073709551615u}});
  CHECK_FALSE(parse_counters("Tcp: A B\n"));                  // names without values
  CHECK_FALSE(parse_counters("Tcp: A B\nTcp: 1\n"));          // a value missing
  CHECK_FALSE(parse_counters("Tcp: A B\nTcp: 1 2 3\n"));      // a value too many
  CHECK_FALSE(parse_counters("Tcp: A B\nUdp: 1 2\n"));        // another group's values
  CHECK_FALSE(parse_counters("Tcp: A B\nTcp: 1 x\n"));        // not a number
  CHECK_FALSE(parse_counters("Tcp: A\nTcp: 18446744073709551616\n"));  // beyond 64 bits
  CHECK_FALSE(parse_counters("Tcp A\nTcp 1\n"));              // no group
}

TEST_CASE("counter_file and counter_group name where a counter lives") {
  CHECK(counter_group("TcpExt.PAWSEstab") == "TcpExt");
  CHECK(counter_file("TcpExt") == "/proc/net/netstat");
  CHECK(counter_file("MPTcpExt") == "/proc/net/netstat");
  CHECK(counter_file("Tcp") == "/proc/net/snmp");
  CHECK(counter_file("IcmpMsg") == "/proc/net/snmp");
  CHECK(tcp_counter("Tcp.OutRsts"));
  CHECK(tcp_counter("TcpExt.PAWSEstab"));
  CHECK_FALSE(tcp_counter("MPTcpExt.MPCapableSYNRX"));
  CHECK_FALSE(tcp_counter("Tcp"));
}
