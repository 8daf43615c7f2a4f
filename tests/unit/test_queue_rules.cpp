// Queue rules: the exact iptables-restore text a policy compiles to.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "harness/core/decide/queue_rules.hpp"

using namespace lastack;

namespace {

// No raw table: conntrack registers its hooks in a namespace only for a rule that needs it.
const std::string head =
    "*filter\n"
    ":INPUT ACCEPT [0:0]\n"
    ":FORWARD ACCEPT [0:0]\n"
    ":OUTPUT ACCEPT [0:0]\n";

/// Selective rules without pure ACKs: no live rule can select one.
std::string flag_rules(unsigned queue) {
  return head + "# SYN, FIN and RST segments: what the tracker and rules need (no rule selects a pure ACK)\n" +
         fmt::format("-A FORWARD -p tcp ! --tcp-flags SYN,FIN,RST NONE -j NFQUEUE --queue-num {}\n", queue) +
         "COMMIT\n";
}

/// Selective rules with pure ACKs, for `why`.
std::string selective_rules(unsigned queue, unsigned max_length,
                            const std::string& why = "fault 1 (line 12) can select one") {
  return head + "# SYN, FIN and RST segments, and short ones (pure ACKs): " + why + "\n" +
         fmt::format("-A FORWARD -p tcp ! --tcp-flags SYN,FIN,RST NONE -j NFQUEUE --queue-num {}\n", queue) +
         fmt::format("-A FORWARD -p tcp -m length --length 0:{} -j NFQUEUE --queue-num {}\n", max_length, queue) +
         "COMMIT\n";
}

std::string all_rules(unsigned queue, const std::string& why) {
  return head + "# every TCP segment: " + why + "\n" +
         fmt::format("-A FORWARD -p tcp -j NFQUEUE --queue-num {}\n", queue) + "COMMIT\n";
}

Selector on(std::optional<Role> role) {
  Selector s;
  s.segment = role;
  return s;
}

/// A policy with one drop rule selecting `role` (unset: any segment), its table at line 12.
Policy dropping(std::optional<Role> role) {
  Policy p;
  FaultRule r;
  r.match = on(role);
  r.line = 12;
  p.faults.push_back(r);
  return p;
}

}  // namespace

TEST_CASE("capture all queues every TCP segment") {
  CHECK(compile_queue_rules(dropping(Role::final_ack), Capture::all, 0, false) == all_rules(0, "capture all"));
}

TEST_CASE("the whole script, spelled out, for a final-ack drop on IPv6") {
  CHECK(compile_queue_rules(dropping(Role::final_ack), Capture::selective, 7, true) ==
        "*filter\n"
        ":INPUT ACCEPT [0:0]\n"
        ":FORWARD ACCEPT [0:0]\n"
        ":OUTPUT ACCEPT [0:0]\n"
        "# SYN, FIN and RST segments, and short ones (pure ACKs): fault 1 (line 12) can select one\n"
        "-A FORWARD -p tcp ! --tcp-flags SYN,FIN,RST NONE -j NFQUEUE --queue-num 7\n"
        "-A FORWARD -p tcp -m length --length 0:100 -j NFQUEUE --queue-num 7\n"
        "COMMIT\n");
}

TEST_CASE("selective capture queues flagged and short segments for IPv4") {
  CHECK(compile_queue_rules(dropping(Role::final_ack), Capture::selective, 3, false) == selective_rules(3, 80));
}

TEST_CASE("selective capture allows for the longer IPv6 header") {
  CHECK(compile_queue_rules(dropping(Role::final_ack), Capture::selective, 3, true) == selective_rules(3, 100));
}

TEST_CASE("selective capture without faults queues only SYN, FIN and RST: bulk data and its ACKs stay in the kernel") {
  CHECK(compile_queue_rules(Policy{}, Capture::selective, 1, false) == flag_rules(1));
}

TEST_CASE("roles without payload keep selective capture selective") {
  for (Role role : {Role::syn, Role::syn_ack, Role::fin, Role::first_fin, Role::second_fin, Role::rst}) {
    INFO(role_name(role));
    CHECK(compile_queue_rules(dropping(role), Capture::selective, 0, false) == flag_rules(0));
  }
  // A pure ACK can carry these: the short segments are queued too.
  for (Role role : {Role::ack, Role::final_ack}) {
    INFO(role_name(role));
    CHECK(compile_queue_rules(dropping(role), Capture::selective, 0, false) == selective_rules(0, 80));
  }
}

TEST_CASE("a hold released by a pure ACK queues the short segments") {
  Policy p = dropping(Role::second_fin);
  p.faults[0].action = ActionKind::hold;
  p.faults[0].until = on(Role::final_ack);
  CHECK(compile_queue_rules(p, Capture::selective, 0, false) ==
        selective_rules(0, 80, "fault 1 (line 12) waits for one"));
}

TEST_CASE("a plan has one rule per match, in order") {
  const QueueRules plain = compile_queue_plan(Policy{}, Capture::selective, 4, true);
  CHECK(plain.queue_num == 4);
  CHECK(plain.ipv6);
  REQUIRE(plain.forward.size() == 1);
  CHECK(plain.forward[0] == QueueRule{true, std::nullopt});
  const QueueRules acks = compile_queue_plan(dropping(Role::ack), Capture::selective, 0, true);
  REQUIRE(acks.forward.size() == 2);
  CHECK(acks.forward[1] == QueueRule{false, std::pair<std::uint16_t, std::uint16_t>(0, 100)});
  const QueueRules all = compile_queue_plan(Policy{}, Capture::all, 0, false);
  REQUIRE(all.forward.size() == 1);
  CHECK(all.forward[0] == QueueRule{});
  CHECK(compile_queue_plan(Policy{}, Capture::none, 0, false).forward.empty());
}

TEST_CASE("a fault that can select data makes selective capture queue everything") {
  for (Role role : {Role::data, Role::retransmission, Role::handshake_ack, Role::first_fin_ack}) {
    INFO(role_name(role));
    CHECK(compile_queue_rules(dropping(role), Capture::selective, 2, false) ==
          all_rules(2, "fault 1 (line 12) can select data"));
  }
}

TEST_CASE("a fault with no segment role makes selective capture queue everything") {
  CHECK(compile_queue_rules(dropping(std::nullopt), Capture::selective, 0, true) ==
        all_rules(0, "fault 1 (line 12) can select data"));
}

TEST_CASE("a hold waiting for data makes selective capture queue everything") {
  Policy p = dropping(Role::first_fin);
  p.faults[0].action = ActionKind::hold;
  p.faults[0].until = on(Role::data);
  CHECK(compile_queue_rules(p, Capture::selective, 0, false) ==
        all_rules(0, "fault 1 (line 12) waits for a segment that can carry data"));
}

TEST_CASE("a lab action triggered by any segment makes selective capture queue everything") {
  Policy p;
  LabAction lab;
  lab.line = 20;
  p.lab.push_back(lab);
  CHECK(compile_queue_rules(p, Capture::selective, 0, false) ==
        all_rules(0, "lab action 1 (line 20) is triggered by a segment that can carry data"));
  p.lab[0].on = on(Role::final_ack);
  CHECK(compile_queue_rules(p, Capture::selective, 0, false) ==
        selective_rules(0, 80, "lab action 1 (line 20) is triggered by one"));
  p.lab[0].on = on(Role::second_fin);
  CHECK(compile_queue_rules(p, Capture::selective, 0, false) == flag_rules(0));
}

TEST_CASE("an expectation on data retransmissions makes selective capture queue everything") {
  Policy p;
  RetransmittedExpect e;
  e.segment = on(Role::data);
  e.line = 30;
  p.expect.push_back(e);
  CHECK(compile_queue_rules(p, Capture::selective, 0, false) ==
        all_rules(0, "the expectation at line 30 counts retransmissions of data"));
  std::get<RetransmittedExpect>(p.expect[0]).segment = on(Role::second_fin);
  CHECK(compile_queue_rules(p, Capture::selective, 0, false) == flag_rules(0));
}

TEST_CASE("counting segments that can carry data makes selective capture queue everything") {
  Policy p;
  SegmentsExpect e;
  e.segment = on(Role::data);
  e.line = 40;
  p.expect.push_back(e);
  CHECK(compile_queue_rules(p, Capture::selective, 0, false) ==
        all_rules(0, "the expectation at line 40 counts segments that can carry data"));
  // A FIN riding on data carries a flag the selective rules catch.
  std::get<SegmentsExpect>(p.expect[0]).with = Role::fin;
  CHECK(compile_queue_rules(p, Capture::selective, 0, false) == flag_rules(0));
  std::get<SegmentsExpect>(p.expect[0]) = SegmentsExpect{on(Role::syn_ack), {}, {.count = 1}, 40};
  CHECK(compile_queue_rules(p, Capture::selective, 0, false) == flag_rules(0));
  // The oracle counts pure ACKs on the whole wire (the packet capture): they need not be queued.
  std::get<SegmentsExpect>(p.expect[0]) = SegmentsExpect{on(Role::final_ack), {}, {.count = 1}, 40};
  CHECK(compile_queue_rules(p, Capture::selective, 0, false) == flag_rules(0));
}

TEST_CASE("counting the close makes selective capture queue everything") {
  Policy p;
  CloseExpect e;
  e.line = 50;
  p.expect.push_back(e);
  CHECK(compile_queue_rules(p, Capture::selective, 0, false) ==
        all_rules(0, "the expectation at line 50 counts every segment of the close"));
}

TEST_CASE("queue rules fail closed: never --queue-bypass") {
  for (Capture capture : {Capture::all, Capture::selective})
    for (bool ipv6 : {false, true})
      CHECK(compile_queue_rules(dropping(Role::fin), capture, 0, ipv6).find("bypass") == std::string::npos);
}

TEST_CASE("capture none queues nothing: no NFQUEUE rule") {
  for (bool ipv6 : {false, true})
    CHECK(compile_queue_rules(Policy{}, Capture::none, 5, ipv6) ==
          head + "# nothing queued: the plain routed path\n" + "COMMIT\n");
}

TEST_CASE("capture none refuses a policy with faults, naming file and line") {
  Policy p = dropping(Role::final_ack);
  p.file = "bulk.toml";
  CHECK_THROWS_WITH(compile_queue_rules(p, Capture::none, 0, false), "bulk.toml:12: capture none cannot apply fault 1");
}

TEST_CASE("capture none refuses a policy with lab actions") {
  Policy p;
  p.file = "p.toml";
  LabAction a;
  a.line = 30;
  p.lab.push_back(a);
  CHECK_THROWS_WITH(compile_queue_rules(p, Capture::none, 0, false), "p.toml:30: capture none cannot run lab action 1");
}

TEST_CASE("capture none never says every segment is queued") {
  CHECK(why_every_segment(dropping(std::nullopt), Capture::none).empty());
}

TEST_CASE("lastack wrap's loopback: the rules move to INPUT and are written twice for the port") {
  // On lo a segment passes OUTPUT and then INPUT in the one namespace: queued at INPUT alone.
  const QueueRules rules = on_loopback(compile_queue_plan(dropping(Role::syn), Capture::selective, 0, false), {8765});
  CHECK(rules.hook == QueueHook::input);
  CHECK(queue_rules_script(rules) ==
        head +
            "# SYN, FIN and RST segments: what the tracker and rules need (no rule selects a pure ACK) (at INPUT, to "
            "or from the port given)\n"
            "-A INPUT -m mark --mark 0x1a57ac4b -j ACCEPT\n"
            "-A INPUT -p tcp --sport 8765 ! --tcp-flags SYN,FIN,RST NONE -j NFQUEUE --queue-num 0\n"
            "-A INPUT -p tcp --dport 8765 ! --tcp-flags SYN,FIN,RST NONE -j NFQUEUE --queue-num 0\n"
            "COMMIT\n");
}

TEST_CASE("lastack wrap without --port queues every port's segments at INPUT") {
  const QueueRules rules = on_loopback(compile_queue_plan(dropping(std::nullopt), Capture::all, 0, false), {});
  CHECK(queue_rules_script(rules) == head + "# every TCP segment: capture all (at INPUT, every port)\n" +
                                         "-A INPUT -m mark --mark 0x1a57ac4b -j ACCEPT\n"
                                         "-A INPUT -p tcp -j NFQUEUE --queue-num 0\nCOMMIT\n");
  // lastack's own segments (SO_MARK kInjectedMark) are let by first: on lo they would be queued again.
  CHECK(rules.pass_mark == kInjectedMark);
  CHECK_FALSE(compile_queue_plan(dropping(std::nullopt), Capture::all, 0, false).pass_mark);
}
