// check = "counter": how it parses, and that it passes with the change it wants, fails with
// another or for a counter the kernel does not have, and says "not checked" when the counters
// were not read; the trace carries the counters through JSON, and the reports list the TCP ones.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "lastack/error.hpp"
#include "harness/core/oracle/expect/expectations.hpp"
#include "harness/core/report/html_report.hpp"
#include "lastack/oracle.hpp"
#include "harness/core/oracle/per_connection.hpp"
#include "lastack/policy_parser.hpp"
#include "lastack/report.hpp"
#include "harness/core/record/trace_reader.hpp"
#include "tests/unit/findings.hpp"
#include "tests/unit/trace_builder.hpp"
#include "lastack/trace_jsonl.hpp"
#include "harness/core/oracle/checks.hpp"

using namespace lastack;
using namespace lastack::testing;
using Catch::Matchers::Contains;

namespace {

constexpr Side client = Side::client, server = Side::server;
const std::string policy_head = "name = \"t\"\n[scenario]\nclient = [\"connect\"]\nserver = [\"accept\"]\n[[expect]]\n";

std::string expect_error(const std::string& expect_lines) {
  try {
    (void)parse_policy(policy_head + expect_lines, "t.toml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

CounterExpect parse_counter(const std::string& expect_lines) {
  const Policy p = parse_policy(policy_head + expect_lines, "t.toml");
  REQUIRE(p.expect.size() == 1);
  return std::get<CounterExpect>(p.expect.front());
}

CounterExpect counter(Side side, std::string name, std::optional<std::int64_t> count) {
  CounterExpect x;
  x.side = side;
  x.name = std::move(name);
  x.change.count = count;
  x.line = 5;
  return x;
}

// A server whose kernel threw away three old duplicates by PAWS; the client's counters unread.
Trace paws_trace() {
  Trace t;
  t.policy = "t";
  t.counters.server = CounterDeltas{{"TcpExt.PAWSEstab", 3}, {"Tcp.OutRsts", 1}, {"Tcp.InSegs", 9},
                                    {"TcpExt.TWKilled", 0}, {"Ip.InReceives", 9}};
  return t;
}

}  // namespace

TEST_CASE("check = counter parses side, name and count or bounds") {
  const CounterExpect exact = parse_counter("check = \"counter\"\nside = \"server\"\nname = \"TcpExt.PAWSEstab\"\ncount = 3\n");
  CHECK(exact.side == server);
  CHECK(exact.name == "TcpExt.PAWSEstab");
  CHECK(exact.change.count == 3);
  CHECK_FALSE(exact.change.min);
  CHECK(exact.line == 5);
  const CounterExpect bounds = parse_counter("check = \"counter\"\nside = \"client\"\nname = \"Tcp.OutRsts\"\nmin = 1\nmax = 2\n");
  CHECK(bounds.side == client);
  CHECK(bounds.change.min == 1);
  CHECK(bounds.change.max == 2);
  CHECK(parse_counter("check = \"counter\"\nside = \"client\"\nname = \"Tcp.CurrEstab\"\ncount = -1\n").change.count == -1);
}

TEST_CASE("check = counter rejects a table that cannot say what to judge") {
  CHECK_THAT(expect_error("check = \"counter\"\nname = \"Tcp.OutRsts\"\ncount = 1\n"),
             Contains("t.toml:5:") && Contains("side"));
  CHECK_THAT(expect_error("check = \"counter\"\nside = \"server\"\ncount = 1\n"), Contains("name"));
  CHECK_THAT(expect_error("check = \"counter\"\nside = \"server\"\nname = \"PAWSEstab\"\ncount = 1\n"),
             Contains("t.toml:8:") && Contains("is not a counter name") && Contains("TcpExt.PAWSEstab"));
  CHECK_THAT(expect_error("check = \"counter\"\nside = \"server\"\nname = \"TcpExt.PAWS-Estab\"\ncount = 1\n"),
             Contains("is not a counter name"));
  CHECK_THAT(expect_error("check = \"counter\"\nside = \"server\"\nname = \"Tcp.OutRsts\"\n"),
             Contains("count") && Contains("min") && Contains("max"));
  CHECK_THAT(expect_error("check = \"counter\"\nside = \"server\"\nname = \"Tcp.OutRsts\"\ncount = 1\nmin = 1\n"),
             Contains("cannot be combined"));
  CHECK_THAT(expect_error("check = \"counter\"\nside = \"server\"\nname = \"Tcp.OutRsts\"\nmin = 3\nmax = 2\n"),
             Contains("is more than"));
  CHECK_THAT(expect_error("check = \"counter\"\nside = \"either\"\nname = \"Tcp.OutRsts\"\ncount = 1\n"),
             Contains("either"));
  CHECK_THAT(expect_error("check = \"counter\"\nside = \"server\"\nname = \"Tcp.OutRsts\"\ncount = 1\nfrom = \"server\"\n"),
             Contains("from"));
}

TEST_CASE("a counter check passes on the change it wants, naming the side, the counter and the change") {
  const CheckResult r = check_expectation(paws_trace(), counter(server, "TcpExt.PAWSEstab", 3));
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.finding.check.kind == CheckKind::counter);
  CHECK(r.finding.check.subject.side == SideRef(server));
  CHECK(r.finding.check.subject.resolved == server);
  CHECK(r.finding.check.subject.counter == "TcpExt.PAWSEstab");
  CHECK(claim<CountClaim>(r).bound.count == 3);
  CHECK(seen<CounterSeen>(r).delta == 3);
  CHECK(r.name == "counter server TcpExt.PAWSEstab");
  CHECK(r.saw == "server TcpExt.PAWSEstab +3");
  CHECK(r.expected == "the server's kernel counter TcpExt.PAWSEstab changed by exactly +3 over the run");
  CHECK(r.line == 5);
  CounterExpect at_least = counter(server, "TcpExt.PAWSEstab", std::nullopt);
  at_least.change.min = 1;
  CHECK(check_expectation(paws_trace(), at_least).outcome == Outcome::pass);
  CHECK(seen<CounterSeen>(check_expectation(paws_trace(), counter(server, "TcpExt.TWKilled", 0))).delta == 0);
  CHECK(check_expectation(paws_trace(), counter(server, "TcpExt.TWKilled", 0)).passed());
}

TEST_CASE("a counter check fails on another change, saying the change seen") {
  const CheckResult wrong = check_expectation(paws_trace(), counter(server, "TcpExt.PAWSEstab", 1));
  CHECK(wrong.outcome == Outcome::fail);
  CHECK(seen<CounterSeen>(wrong).delta == 3);
  CHECK(check_expectation(paws_trace(), counter(server, "TcpExt.PAWSEstab", 0)).outcome == Outcome::fail);
  CounterExpect at_most = counter(server, "TcpExt.PAWSEstab", std::nullopt);
  at_most.change.max = 2;
  CHECK(check_expectation(paws_trace(), at_most).outcome == Outcome::fail);
  CHECK(claim<CountClaim>(check_expectation(paws_trace(), at_most)).bound == CountBound<std::int64_t>{{}, {}, 2});
  CHECK(check_expectation(paws_trace(), at_most).expected == "the server's kernel counter TcpExt.PAWSEstab changed by at most +2 over the run");
  CounterExpect between = counter(server, "TcpExt.PAWSEstab", std::nullopt);
  between.change.min = 4;
  between.change.max = 9;
  CHECK(check_expectation(paws_trace(), between).outcome == Outcome::fail);
  between.change.min = 3;
  CHECK(check_expectation(paws_trace(), between).outcome == Outcome::pass);
}

TEST_CASE("a counter the kernel does not have fails, naming the file it would be in") {
  const CheckResult ext = check_expectation(paws_trace(), counter(server, "TcpExt.Foo", 0));
  CHECK(ext.outcome == Outcome::fail);
  CHECK(seen<CounterSeen>(ext).missing);
  CHECK(ext.saw == "no counter TcpExt.Foo in the server's /proc/net/netstat");
  const CheckResult snmp = check_expectation(paws_trace(), counter(server, "Tcp.Foo", 0));
  CHECK(snmp.outcome == Outcome::fail);
  CHECK(seen<CounterSeen>(snmp).missing);
  CHECK(snmp.saw == "no counter Tcp.Foo in the server's /proc/net/snmp");
  const CheckResult spelled = check_expectation(paws_trace(), counter(server, "TcpExt.pawsestab", 3));
  CHECK(spelled.outcome == Outcome::fail);
  CHECK(seen<CounterSeen>(spelled).other_case == "TcpExt.PAWSEstab");
  CHECK(spelled.saw == "no counter TcpExt.pawsestab in the server's /proc/net/netstat (it has TcpExt.PAWSEstab)");
  // The kernel lists an IcmpMsg type only once it has counted one: absent there is zero.
  const CheckResult icmp = check_expectation(paws_trace(), counter(server, "IcmpMsg.OutType3", 0));
  CHECK(icmp.outcome == Outcome::pass);
  CHECK(seen<CounterSeen>(icmp).unlisted);
  CHECK(seen<CounterSeen>(icmp).delta == 0);
}

TEST_CASE("counters not read leave a counter check not checked, never passed") {
  const CheckResult r = check_expectation(paws_trace(), counter(client, "Tcp.OutRsts", 0));
  CHECK(r.outcome == Outcome::not_checked);
  CHECK(why_not(r) == Unjudged::counters_not_read);
  CHECK(r.saw == "the client's kernel counters were not read in this run");
  CHECK(check_expectation(Trace{}, counter(server, "TcpExt.Foo", 0)).outcome == Outcome::not_checked);
}

TEST_CASE("a counter check is judged once for the whole run, however many connections") {
  TraceBuilder b;
  b.wire(1, client, "S", 0, 0, 0, {Role::syn});
  Trace t = b.trace;
  WireEvent second = std::get<WireEvent>(t.events.front());
  second.segment.sport = 40001;
  second.info.connection = ConnectionIndex{1};
  second.at = ms(2);
  t.events.emplace_back(second);
  t.counters.server = paws_trace().counters.server;
  const auto results = check_expectations(t, {counter(server, "TcpExt.PAWSEstab", 3)});
  REQUIRE(results.size() == 1);
  CHECK_FALSE(results.front().finding.check.on_connection);
  CHECK_FALSE(results.front().finding.folded);
  CHECK(results.front().name == "counter server TcpExt.PAWSEstab");
  CHECK(results.front().passed());
}

TEST_CASE("the trace carries each side's counters through JSON, absent means not read") {
  Trace t = paws_trace();
  std::ostringstream out;
  write_jsonl(t, {}, out);
  const auto header = nlohmann::json::parse(out.str().substr(0, out.str().find('\n')));
  CHECK(header["kernel_counters"]["client"].is_null());
  CHECK(header["kernel_counters"]["server"]["TcpExt.PAWSEstab"] == 3);
  CHECK(header["kernel_counters"]["server"]["TcpExt.TWKilled"] == 0);  // unchanged ones are kept
  std::istringstream in(out.str());
  const Trace back = read_trace_jsonl(in, "t.jsonl");
  CHECK_FALSE(back.counters.client);
  REQUIRE(back.counters.server);
  CHECK(*back.counters.server == *t.counters.server);

  Trace negative;
  negative.counters.client = CounterDeltas{{"Tcp.CurrEstab", -1}};
  std::ostringstream neg_out;
  write_jsonl(negative, {}, neg_out);
  std::istringstream neg_in(neg_out.str());
  CHECK(read_trace_jsonl(neg_in, "t.jsonl").counters.client == negative.counters.client);

  std::ostringstream old_out;
  write_jsonl(Trace{}, {}, old_out);  // neither read (an older trace): no field at all
  CHECK(old_out.str().find("kernel_counters") == std::string::npos);
  std::istringstream old_in(old_out.str());
  const Trace old = read_trace_jsonl(old_in, "t.jsonl");
  CHECK_FALSE(old.counters.client);
  CHECK_FALSE(old.counters.server);
}

TEST_CASE("a recorded counter that is not an integer is rejected at its line") {
  Trace t = paws_trace();
  std::ostringstream out;
  write_jsonl(t, {}, out);
  std::string text = out.str();
  const std::string good = "\"TcpExt.PAWSEstab\":3";
  REQUIRE(text.find(good) != std::string::npos);
  text.replace(text.find(good), good.size(), "\"TcpExt.PAWSEstab\":\"3\"");
  std::istringstream in(text);
  try {
    (void)read_trace_jsonl(in, "bad.jsonl");
    FAIL("accepted");
  } catch (const InputError& e) {
    CHECK_THAT(std::string(e.what()), Contains("bad.jsonl:1:") && Contains("TcpExt.PAWSEstab"));
  }
}

TEST_CASE("the ladder and the HTML page end with each side's changed TCP counters") {
  const Trace t = paws_trace();
  const std::string ladder = render_ladder(t);
  CHECK_THAT(ladder, Contains("client kernel counters: not read\n"));
  CHECK_THAT(ladder, Contains("server kernel counters: Tcp.OutRsts +1, TcpExt.PAWSEstab +3\n"));
  CHECK(ladder.find("Ip.InReceives") == std::string::npos);  // not TCP
  CHECK(ladder.find("Tcp.InSegs") == std::string::npos);     // routine
  CHECK(ladder.find("TWKilled") == std::string::npos);
  const std::string html = render_html_report(t, {}, {"t", "summary", "t.toml"});
  CHECK_THAT(html, Contains("<p class=\"counters\">server kernel counters: Tcp.OutRsts +1, TcpExt.PAWSEstab +3</p>"));
  Trace quiet;
  quiet.counters.client = CounterDeltas{{"Tcp.OutRsts", 0}, {"Ip.InReceives", 4}};
  CHECK_THAT(render_ladder(quiet), Contains("client kernel counters: no TCP counter changed beyond routine traffic\n"));
  CHECK(render_ladder(Trace{}).find("kernel counters") == std::string::npos);  // an older trace says nothing
}
