// first-closer / second-closer: parsed beside client/server, resolved live by the flow tracker
// for faults, and per connection from the whole trace for expectations.
#include <catch2/catch.hpp>

#include <string>

#include "harness/core/oracle/close_order.hpp"
#include "harness/core/decide/decision.hpp"
#include "lastack/error.hpp"
#include "lastack/flow_tracker.hpp"
#include "lastack/oracle.hpp"
#include "lastack/policy_parser.hpp"
#include "harness/core/report/policy_text.hpp"
#include "tests/unit/findings.hpp"
#include "tests/unit/trace_builder.hpp"
#include "harness/core/oracle/checks.hpp"

using namespace lastack;
using namespace lastack::testing;
using Catch::Matchers::Contains;
using enum Role;

namespace {

constexpr Side client = Side::client, server = Side::server;
constexpr SideRef first_closer = SideRef::first_closer(), second_closer = SideRef::second_closer();

std::string error_of(const std::string& text) {
  try {
    (void)parse_policy(text, "t.toml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

Policy parsed(const std::string& rest) {
  return parse_policy("name = \"t\"\n[scenario]\nclient = [\"connect\", \"close\"]\nserver = [\"accept\", \"close\"]\n" +
                          rest,
                      "t.toml");
}

// The same trace with the sides' names swapped (each endpoint keeps its ports): in
// drop_final_ack_trace the server is then the one that closes first.
Trace mirrored(Trace t) {
  for (TraceEvent& ev : t.events) {
    if (auto* w = std::get_if<WireEvent>(&ev)) {
      w->info.from = peer_of(w->info.from);
      std::swap(w->segment.src, w->segment.dst);
    } else if (auto* s = std::get_if<SocketEvent>(&ev)) {
      s->side = peer_of(s->side);
    } else if (auto* a = std::get_if<AppEvent>(&ev)) {
      a->side = peer_of(a->side);
    }
  }
  return t;
}

Expectation expectation_of(const std::string& table) { return parsed(table).expect.at(0); }

CheckResult judge(const Trace& trace, const std::string& table) {
  return check_expectation(trace, expectation_of(table));
}

}  // namespace

TEST_CASE("side references round-trip by name and resolve against the first FIN's sender", "[close-order]") {
  CHECK(side_ref_name(first_closer) == "first-closer");
  CHECK(side_ref_from_name("second-closer") == second_closer);
  CHECK(side_ref_from_name("client") == SideRef(client));
  CHECK_FALSE(side_ref_from_name("first_closer"));
  CHECK(all_side_ref_names() == std::vector<std::string_view>{"client", "server", "first-closer", "second-closer"});
  CHECK(resolve_side(first_closer, server) == server);
  CHECK(resolve_side(second_closer, server) == client);
  CHECK(resolve_side(second_closer, client) == server);
  CHECK_FALSE(resolve_side(first_closer, std::nullopt));  // no FIN yet: nobody is a closer
  CHECK(resolve_side(client, std::nullopt) == client);    // by who connected: known from the SYN
  CHECK(resolve_side(server, client) == server);
  CHECK(first_closer.by_close_order());
  CHECK_FALSE(SideRef(server).by_close_order());
  CHECK(SideRef(server).fixed() == server);
  CHECK_FALSE(second_closer.fixed());
}

TEST_CASE("from and side accept first-closer and second-closer beside client and server", "[close-order]") {
  const Policy p = parsed(
      "[[fault]]\nsegment = \"final-ack\"\nfrom = \"first-closer\"\naction = \"drop\"\n"
      "[[lab]]\naction = \"destroy-timewait\"\non = { segment = \"final-ack\", from = \"first-closer\" }\n"
      "side = \"first-closer\"\n"
      "[[expect]]\ncheck = \"state\"\nside = \"second-closer\"\nreaches = \"LAST_ACK\"\n"
      "[[expect]]\ncheck = \"timewait\"\nentered-by = [\"first-closer\"]\n"
      "[[expect]]\ncheck = \"reset\"\nfrom = \"first-closer\"\ncount = 0\n"
      "[[expect]]\ncheck = \"retransmitted\"\nsegment = \"second-fin\"\nfrom = \"second-closer\"\n");
  REQUIRE(p.faults.size() == 1);
  CHECK(p.faults[0].match.from == first_closer);
  CHECK(describe_fault(p.faults[0]) == "drop every final-ack from first-closer");
  CHECK(p.lab[0].side == first_closer);
  CHECK(p.lab[0].on.from == first_closer);
  CHECK_THAT(describe_lab_action(p.lab[0]), Contains("destroy the first-closer's TIME_WAIT socket"));
  CHECK(std::get<StateExpect>(p.expect[0]).side == second_closer);
  const auto& tw = std::get<TimeWaitExpect>(p.expect[1]);
  CHECK(tw.entered_by == std::vector<SideRef>{first_closer});
  CHECK(std::get<ResetExpect>(p.expect[2]).from == first_closer);
  CHECK(std::get<RetransmittedExpect>(p.expect[3]).segment.from == second_closer);
}

TEST_CASE("a bad side lists every spelling, inject-rst names its side one way", "[close-order]") {
  CHECK(error_of("name = \"t\"\n[scenario]\nclient = [\"connect\"]\nserver = [\"accept\"]\n"
                 "[[expect]]\ncheck = \"state\"\nside = \"first\"\nreaches = \"CLOSED\"\n") ==
        "t.toml:7: unknown side \"first\" (expected one of: client, server, first-closer, second-closer)");
  CHECK(error_of("name = \"t\"\n[scenario]\nclient = [\"connect\"]\nserver = [\"accept\"]\n"
                 "[[expect]]\ncheck = \"timewait\"\nentered-by = [\"first-closer\", \"first-closer\"]\n") ==
        "t.toml:7: entered-by lists \"first-closer\" twice");
  CHECK(error_of("name = \"t\"\n[scenario]\nclient = [\"connect\"]\nserver = [\"accept\"]\n"
                 "[[lab]]\naction = \"inject-rst\"\non = { segment = \"final-ack\", from = \"client\" }\n"
                 "side = \"first-closer\"\n") ==
        "t.toml:8: side = \"first-closer\" but on.from = \"client\": inject-rst sends the RST to the sender of "
        "the on segment, so side must be \"client\" (or be left out)");
  const Policy p = parsed("[[lab]]\naction = \"inject-rst\"\non = { segment = \"final-ack\" }\nside = \"first-closer\"\n");
  CHECK(p.lab[0].on.from == first_closer);
  CHECK(p.lab[0].side == first_closer);
}

TEST_CASE("the tracker knows the first closer from the first FIN on, in wire order", "[close-order]") {
  const IpAddress c = v4(198, 18, 1, 2), s = v4(198, 18, 2, 2);
  FlowTracker tracker({c});
  const auto seg = [&](Side from, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack) {
    Segment x;
    x.src = from == client ? c : s;
    x.dst = from == client ? s : c;
    x.sport = from == client ? 40000 : 8080;
    x.dport = from == client ? 8080 : 40000;
    x.flags.bits = flags;
    x.seq = SeqNum(seq);
    x.ack = SeqNum(ack);
    return tracker.observe(x);
  };
  CHECK_FALSE(seg(client, TcpFlags::SYN, 1000, 0).first_closer);
  CHECK_FALSE(seg(server, TcpFlags::SYN | TcpFlags::ACK, 5000, 1001).first_closer);
  CHECK_FALSE(seg(client, TcpFlags::ACK, 1001, 5001).first_closer);
  // The server closes first; in a simultaneous close the client's FIN comes second on the wire.
  const Classified server_fin = seg(server, TcpFlags::FIN | TcpFlags::ACK, 5001, 1001);
  CHECK(server_fin.first_closer == server);
  const Classified client_fin = seg(client, TcpFlags::FIN | TcpFlags::ACK, 1001, 5001);
  CHECK(client_fin.roles.has(second_fin));
  CHECK(client_fin.first_closer == server);
}

TEST_CASE("a fault from first-closer matches nothing before the first FIN, then the closer's segments",
          "[close-order]") {
  Selector sel;
  sel.from = first_closer;
  Classified before;
  before.from = server;
  CHECK_FALSE(selector_matches(sel, before));  // no FIN yet: nobody is a closer
  Classified after = before;
  after.first_closer = server;
  CHECK(selector_matches(sel, after));
  after.from = client;
  CHECK_FALSE(selector_matches(sel, after));
  sel.from = second_closer;
  CHECK(selector_matches(sel, after));
}

TEST_CASE("expectations resolve the closer per connection and say who it was", "[close-order]") {
  const Trace client_first = drop_final_ack_trace();
  const Trace server_first = mirrored(client_first);
  REQUIRE(agreed_first_closer(client_first) == client);
  REQUIRE(agreed_first_closer(server_first) == server);

  const std::string tw = "[[expect]]\ncheck = \"timewait\"\nentered-by = [\"first-closer\"]\n";
  for (const Trace* t : {&client_first, &server_first}) {
    const CheckResult r = judge(*t, tw);
    CHECK(r.outcome == Outcome::pass);
  }
  CHECK_THAT(judge(server_first, tw).name, Contains("entered by first-closer (server)"));
  // Named by who connected, the mirrored trace fails: the lesson is about the order of closing.
  CHECK(judge(server_first, "[[expect]]\ncheck = \"timewait\"\nentered-by = [\"client\"]\n").outcome ==
        Outcome::fail);

  const CheckResult again = judge(with_kernel_retransmits(server_first), "[[expect]]\ncheck = \"retransmitted\"\nsegment = \"second-fin\"\n"
                                                "from = \"second-closer\"\ncount = 1\n");
  CHECK(again.outcome == Outcome::pass);
  CHECK_THAT(again.name, Contains("second-fin from second-closer (client)"));
  CHECK(again.finding.check.subject.side == SideRef::second_closer());
  CHECK(again.finding.check.subject.resolved == client);

  const CheckResult state = judge(server_first, "[[expect]]\ncheck = \"state\"\nside = \"first-closer\"\n"
                                                "reaches = \"FIN_WAIT_2\"\nends-in = \"TIME_WAIT\"\n");
  CHECK(state.outcome == Outcome::pass);
  CHECK(state.name == "state first-closer (server) reaches FIN_WAIT_2, ends in TIME_WAIT");
  // The finding keeps the side as the policy named it and the side the trace resolved it to.
  CHECK(state.finding.check.subject.side == SideRef::first_closer());
  CHECK(state.finding.check.subject.resolved == server);
  CHECK(judge(server_first, "[[expect]]\ncheck = \"state\"\nside = \"second-closer\"\nreaches = \"TIME_WAIT\"\n")
            .outcome == Outcome::fail);

  const CheckResult reset = judge(server_first, "[[expect]]\ncheck = \"reset\"\nfrom = \"first-closer\"\ncount = 0\n");
  CHECK(reset.outcome == Outcome::pass);
  CHECK_THAT(reset.name, Contains("no RST from first-closer (server)"));
}

TEST_CASE("a selector's closer counts the closer's segments from before its FIN too", "[close-order]") {
  // The whole connection names the closer: the server's handshake SYN-ACK is the second closer's.
  const CheckResult r = judge(drop_final_ack_trace(),
                              "[[expect]]\ncheck = \"segments\"\nsegment = \"syn-ack\"\nfrom = \"second-closer\"\ncount = 1\n");
  CHECK(r.outcome == Outcome::pass);
  CHECK_THAT(r.name, Contains("syn-ack from second-closer (server)"));
}

TEST_CASE("with no FIN on a connection, a closer's check is not checked, never passed", "[close-order]") {
  TraceBuilder b;
  b.wire(0.0, client, "S", 0, 0, 0, {syn});
  b.wire(0.1, server, "S.", 0, 1, 0, {syn_ack});
  b.wire(0.2, client, ".", 1, 1, 0, {handshake_ack, ack});
  b.wire(5.0, client, "R.", 1, 1, 0, {rst});
  b.socket(0.2, client, TcpState::ESTABLISHED, 204);
  b.socket(5.0, client, TcpState::CLOSE);
  for (const std::string table :
       {"[[expect]]\ncheck = \"reset\"\nfrom = \"first-closer\"\ncount = 0\n",
        "[[expect]]\ncheck = \"state\"\nside = \"first-closer\"\nnever = \"TIME_WAIT\"\n",
        "[[expect]]\ncheck = \"timewait\"\nentered-by = [\"second-closer\"]\n",
        "[[expect]]\ncheck = \"segments\"\nsegment = \"rst\"\nfrom = \"second-closer\"\ncount = 0\n"}) {
    const CheckResult r = judge(b.trace, table);
    CHECK(r.outcome == Outcome::not_checked);
    CHECK(why_not(r) == Unjudged::closer_unknown);
    CHECK_FALSE(r.finding.check.subject.resolved);
    CHECK_THAT(r.saw, Contains("no FIN on the wire, so no side is the"));
    CHECK_THAT(r.name, !Contains("(client)") && !Contains("(server)"));
  }
  CHECK(judge(Trace{}, "[[expect]]\ncheck = \"reset\"\nfrom = \"first-closer\"\n").saw ==
        "nothing on the wire, so no side is the first-closer");
}

TEST_CASE("connections closed first by different sides leave a one-side check not checked", "[close-order]") {
  TraceBuilder b;
  b.wire(1.0, client, "F.", 1, 1, 0, {fin, first_fin});
  auto& other = b.wire(2.0, server, "F.", 1, 1, 0, {fin, first_fin});
  other.info.connection = ConnectionIndex{1};
  other.segment.dport = 40001;
  b.socket(1.0, client, TcpState::FIN_WAIT1);
  const CheckResult r = judge(b.trace, "[[expect]]\ncheck = \"state\"\nside = \"first-closer\"\nreaches = \"FIN_WAIT_1\"\n");
  CHECK(r.outcome == Outcome::not_checked);
  CHECK(why_not(r) == Unjudged::closer_unknown);
  CHECK(r.finding.check.subject.side == SideRef::first_closer());
  CHECK_FALSE(r.finding.check.subject.resolved);
  CHECK_THAT(r.saw, Contains("connection 1: client, connection 2: server"));
  // Segment by segment, each connection resolves on its own: two first FINs, one per closer.
  const CheckResult fins = judge(b.trace, "[[expect]]\ncheck = \"segments\"\nsegment = \"fin\"\nfrom = \"first-closer\"\ncount = 2\n");
  CHECK(fins.outcome == Outcome::pass);
  CHECK(fins.name == "segments fin from first-closer");
}
