// The decision engine with an injected clock: counting, rule order, and the release queue.
#include <catch2/catch.hpp>

#include "classified.hpp"
#include "harness/core/decide/decision.hpp"

using namespace lastack;
using lastack::test::seg;
using namespace std::chrono_literals;

namespace {

Selector selector(std::optional<Role> role, std::optional<Side> from = std::nullopt) {
  Selector s;
  s.segment = role;
  s.from = from;
  return s;
}

FaultRule rule(ActionKind action, Selector match, std::uint32_t nth = 1,
               std::optional<std::uint32_t> count = std::nullopt, std::uint32_t every = 1) {
  FaultRule r;
  r.action = action;
  r.match = match;
  r.nth = nth;
  r.count = count;
  r.every = every;
  return r;
}

FaultRule hold_until(Selector match, Selector until, Millis deadline = 0ms) {
  FaultRule r = rule(ActionKind::hold, match);
  r.until = until;
  r.deadline = deadline;
  return r;
}

/// Which of `n` matching segments (numbered from 1) the engine acts on.
std::vector<int> affected(std::vector<FaultRule> rules, int n) {
  DecisionEngine engine(std::move(rules));
  std::vector<int> out;
  for (int i = 1; i <= n; ++i)
    if (!engine.decide(i, seg(Role::data, Side::client), instant_from_ns(i)).pass) out.push_back(i);
  return out;
}

Instant at(Millis ms) { return Instant(ms); }

}  // namespace

TEST_CASE("selector_matches checks every field the selector sets") {
  const Classified fin = seg(Role::fin, Side::server, 1);
  CHECK(selector_matches(Selector{}, fin));
  CHECK(selector_matches(selector(Role::fin), fin));
  CHECK_FALSE(selector_matches(selector(Role::syn), fin));
  CHECK(selector_matches(selector(std::nullopt, Side::server), fin));
  CHECK_FALSE(selector_matches(selector(Role::fin, Side::client), fin));
  Selector second;
  second.connection = ConnectionNumber{2};  // the tracker's index 1
  CHECK(selector_matches(second, fin));
  second.connection = ConnectionNumber{1};
  CHECK_FALSE(selector_matches(second, fin));
}

TEST_CASE("selector_matches finds a role among several tags") {
  Classified c = seg(Role::fin, Side::client);
  c.roles.add(Role::first_fin);
  c.roles.add(Role::retransmission);
  CHECK(selector_matches(selector(Role::first_fin), c));
  CHECK(selector_matches(selector(Role::retransmission), c));
  CHECK_FALSE(selector_matches(selector(Role::second_fin), c));
}

TEST_CASE("a segment no rule selects passes") {
  DecisionEngine engine({rule(ActionKind::drop, selector(Role::syn))});
  const Decision d = engine.decide(1, seg(Role::fin, Side::client), at(0ms));
  CHECK(d.pass);
  CHECK_FALSE(d.fault);
  CHECK_FALSE(d.release_at);
}

TEST_CASE("nth with count 1 affects only the nth match") {
  CHECK(affected({rule(ActionKind::drop, selector(Role::data), 2, 1)}, 5) == std::vector<int>{2});
}

TEST_CASE("without count a rule affects every match from nth on") {
  CHECK(affected({rule(ActionKind::drop, selector(Role::data))}, 4) == std::vector<int>{1, 2, 3, 4});
  CHECK(affected({rule(ActionKind::drop, selector(Role::data), 3)}, 5) == std::vector<int>{3, 4, 5});
}

TEST_CASE("every skips matches between the affected ones") {
  CHECK(affected({rule(ActionKind::drop, selector(Role::data), 1, std::nullopt, 2)}, 6) ==
        std::vector<int>{1, 3, 5});
}

TEST_CASE("nth, every and count combine") {
  CHECK(affected({rule(ActionKind::drop, selector(Role::data), 2, 2, 3)}, 10) == std::vector<int>{2, 5});
}

TEST_CASE("only segments the selector matches are counted") {
  DecisionEngine engine({rule(ActionKind::drop, selector(Role::fin, Side::server), 2, 1)});
  CHECK(engine.decide(1, seg(Role::fin, Side::server), at(0ms)).pass);
  CHECK(engine.decide(2, seg(Role::fin, Side::client), at(1ms)).pass);
  CHECK(engine.decide(3, seg(Role::ack, Side::server), at(2ms)).pass);
  const Decision d = engine.decide(4, seg(Role::fin, Side::server), at(3ms));
  CHECK_FALSE(d.pass);
  CHECK(d.action == ActionKind::drop);
  CHECK(d.fault == 0u);
}

TEST_CASE("the first applying rule wins") {
  DecisionEngine engine({rule(ActionKind::drop, selector(Role::fin)),
                         rule(ActionKind::duplicate, selector(Role::fin))});
  for (std::uint64_t p = 1; p <= 3; ++p) {
    const Decision d = engine.decide(p, seg(Role::fin, Side::client), at(0ms));
    CHECK(d.fault == 0u);
    CHECK(d.action == ActionKind::drop);
  }
}

TEST_CASE("a later rule counts matches even while an earlier rule wins") {
  // Rule 1 takes the first FIN; rule 2 wants the second FIN, and must have counted the first.
  DecisionEngine engine({rule(ActionKind::drop, selector(Role::fin), 1, 1),
                         rule(ActionKind::duplicate, selector(Role::fin), 2, 1)});
  const Decision first = engine.decide(1, seg(Role::fin, Side::client), at(0ms));
  CHECK(first.fault == 0u);
  const Decision second = engine.decide(2, seg(Role::fin, Side::server), at(1ms));
  CHECK(second.fault == 1u);
  CHECK(second.action == ActionKind::duplicate);
  CHECK(engine.decide(3, seg(Role::fin, Side::server), at(2ms)).pass);
}

TEST_CASE("a rule that no longer applies lets a later rule act") {
  DecisionEngine engine({rule(ActionKind::drop, selector(Role::data), 1, 1),
                         rule(ActionKind::duplicate, selector(Role::data))});
  CHECK(engine.decide(1, seg(Role::data, Side::client), at(0ms)).fault == 0u);
  CHECK(engine.decide(2, seg(Role::data, Side::client), at(0ms)).fault == 1u);
}

TEST_CASE("drop neither passes nor waits") {
  DecisionEngine engine({rule(ActionKind::drop, selector(Role::syn))});
  const Decision d = engine.decide(7, seg(Role::syn, Side::client), at(5ms));
  CHECK_FALSE(d.pass);
  CHECK(d.action == ActionKind::drop);
  CHECK_FALSE(engine.next_deadline());
  CHECK(engine.release_all().empty());
}

TEST_CASE("duplicate reports the number of extra copies and does not wait") {
  FaultRule dup = rule(ActionKind::duplicate, selector(Role::data));
  dup.copies = 3;
  DecisionEngine engine({dup});
  const Decision d = engine.decide(1, seg(Role::data, Side::client), at(0ms));
  CHECK_FALSE(d.pass);
  CHECK(d.action == ActionKind::duplicate);
  CHECK(d.copies == 3);
  CHECK(d.fault == 0u);
  CHECK(engine.due(at(10s)).empty());
}

TEST_CASE("a delayed segment is released when its delay has elapsed, once") {
  FaultRule delay = rule(ActionKind::delay, selector(Role::ack));
  delay.delay = 300ms;
  DecisionEngine engine({delay});
  const Decision d = engine.decide(42, seg(Role::ack, Side::client), at(100ms));
  CHECK_FALSE(d.pass);
  CHECK(d.action == ActionKind::delay);
  CHECK(d.release_at == at(400ms));
  CHECK(engine.next_deadline() == at(400ms));
  CHECK(engine.due(at(399ms)).empty());
  const auto released = engine.due(at(400ms));
  REQUIRE(released.size() == 1);
  CHECK(released[0].packet == 42);
  CHECK(released[0].fault == 0);
  CHECK(released[0].reason == "delay 300ms elapsed");
  CHECK(engine.due(at(1s)).empty());
  CHECK_FALSE(engine.next_deadline());
}

TEST_CASE("due returns everything due in arrival order, next_deadline is the earliest") {
  FaultRule slow = rule(ActionKind::delay, selector(Role::data));
  slow.delay = 500ms;
  FaultRule fast = rule(ActionKind::delay, selector(Role::ack));
  fast.delay = 100ms;
  DecisionEngine engine({slow, fast});
  engine.decide(1, seg(Role::data, Side::client), at(0ms));   // due at 500
  engine.decide(2, seg(Role::ack, Side::server), at(10ms));   // due at 110
  engine.decide(3, seg(Role::data, Side::client), at(20ms));  // due at 520
  CHECK(engine.next_deadline() == at(110ms));
  const auto first = engine.due(at(110ms));
  REQUIRE(first.size() == 1);
  CHECK(first[0].packet == 2);
  CHECK(engine.next_deadline() == at(500ms));
  const auto rest = engine.due(at(600ms));
  REQUIRE(rest.size() == 2);
  CHECK(rest[0].packet == 1);
  CHECK(rest[1].packet == 3);
}

TEST_CASE("a held segment waits until a later segment matches until") {
  DecisionEngine engine(
      {hold_until(selector(Role::first_fin, Side::client), selector(Role::fin, Side::server))});
  Classified client_fin = seg(Role::fin, Side::client);
  client_fin.roles.add(Role::first_fin);
  const Decision held = engine.decide(1, client_fin, at(0ms));
  CHECK_FALSE(held.pass);
  CHECK(held.action == ActionKind::hold);
  CHECK_FALSE(held.release_at);  // no deadline
  CHECK_FALSE(engine.next_deadline());

  CHECK(engine.decide(2, seg(Role::ack, Side::server), at(5ms)).pass);
  CHECK(engine.decide(3, seg(Role::fin, Side::client), at(6ms)).pass);  // wrong side
  CHECK(engine.due(at(50ms)).empty());

  const Decision releaser = engine.decide(4, seg(Role::fin, Side::server), at(60ms));
  CHECK(releaser.pass);
  CHECK(engine.next_deadline() == at(60ms));
  const auto released = engine.due(at(60ms));
  REQUIRE(released.size() == 1);
  CHECK(released[0].packet == 1);
  CHECK(released[0].reason == "released by fin from server");
  CHECK(engine.due(at(70ms)).empty());
}

TEST_CASE("a held segment is released at its deadline") {
  DecisionEngine engine({hold_until(selector(Role::syn), selector(Role::rst), 2s)});
  const Decision d = engine.decide(9, seg(Role::syn, Side::client), at(1s));
  CHECK(d.action == ActionKind::hold);
  CHECK(d.release_at == at(3s));
  CHECK(engine.next_deadline() == at(3s));
  CHECK(engine.due(at(2999ms)).empty());
  const auto released = engine.due(at(3s));
  REQUIRE(released.size() == 1);
  CHECK(released[0].packet == 9);
  CHECK(released[0].reason == "hold deadline 2s");
}

TEST_CASE("until releases a hold before its deadline") {
  DecisionEngine engine({hold_until(selector(Role::syn), selector(Role::rst), 2s)});
  engine.decide(1, seg(Role::syn, Side::client), at(0ms));
  engine.decide(2, seg(Role::rst, Side::server), at(500ms));
  CHECK(engine.next_deadline() == at(500ms));
  const auto released = engine.due(at(500ms));
  REQUIRE(released.size() == 1);
  CHECK(released[0].reason == "released by rst from server");
}

TEST_CASE("an until without a role names the releasing segment's roles") {
  DecisionEngine engine({hold_until(selector(Role::syn), selector(std::nullopt, Side::server))});
  engine.decide(1, seg(Role::syn, Side::client), at(0ms));
  engine.decide(2, seg(Role::ack, Side::server), at(1ms));
  const auto released = engine.due(at(1ms));
  REQUIRE(released.size() == 1);
  CHECK(released[0].reason == "released by ack from server");
}

TEST_CASE("a hold is skipped when until has already matched") {
  DecisionEngine engine(
      {hold_until(selector(Role::first_fin, Side::client), selector(Role::fin, Side::server), 3s)});
  CHECK(engine.decide(1, seg(Role::fin, Side::server), at(0ms)).pass);
  const Decision d = engine.decide(2, seg(Role::first_fin, Side::client), at(1ms));
  CHECK(d.pass);
  CHECK_FALSE(d.fault);
  CHECK_FALSE(engine.next_deadline());
  CHECK(engine.release_all().empty());
}

TEST_CASE("a segment does not release its own hold") {
  // Hold any FIN until a FIN: the first FIN waits for the next one, which then passes.
  DecisionEngine engine({hold_until(selector(Role::fin), selector(Role::fin))});
  CHECK_FALSE(engine.decide(1, seg(Role::fin, Side::client), at(0ms)).pass);
  CHECK(engine.due(at(0ms)).empty());
  CHECK(engine.decide(2, seg(Role::fin, Side::server), at(1ms)).pass);
  const auto released = engine.due(at(1ms));
  REQUIRE(released.size() == 1);
  CHECK(released[0].packet == 1);
}

TEST_CASE("release_all returns every waiting segment in arrival order") {
  FaultRule delay = rule(ActionKind::delay, selector(Role::data));
  delay.delay = 10s;
  DecisionEngine engine({hold_until(selector(Role::syn), selector(Role::rst)), delay});
  engine.decide(5, seg(Role::data, Side::client), at(0ms));
  engine.decide(6, seg(Role::syn, Side::client), at(1ms));
  engine.decide(7, seg(Role::data, Side::server), at(2ms));
  const auto all = engine.release_all();
  REQUIRE(all.size() == 3);
  CHECK(all[0].packet == 5);
  CHECK(all[0].fault == 1);
  CHECK(all[1].packet == 6);
  CHECK(all[1].fault == 0);
  CHECK(all[2].packet == 7);
  CHECK(all[0].reason == "end of run");
  CHECK(engine.release_all().empty());
  CHECK(engine.due(at(1h)).empty());
  CHECK_FALSE(engine.next_deadline());
}

// ---- many connections: counting runs across connections unless the selector names one ----

namespace {
/// Which of the final-acks of connections 1, 2, 3 (one each, in order) the engine acts on.
std::vector<std::size_t> affected_connections(FaultRule r) {
  DecisionEngine engine({std::move(r)});
  std::vector<std::size_t> out;
  for (std::size_t c = 0; c < 3; ++c)
    if (!engine.decide(c + 1, seg(Role::final_ack, Side::server, c), at(Millis(c))).pass) out.push_back(c + 1);
  return out;
}
}  // namespace

TEST_CASE("nth counts matches across connections: nth = 2 is the second connection's final-ack") {
  CHECK(affected_connections(rule(ActionKind::drop, selector(Role::final_ack), 2, 1u)) ==
        std::vector<std::size_t>{2});
}

TEST_CASE("every and count count across connections") {
  CHECK(affected_connections(rule(ActionKind::drop, selector(Role::final_ack), 1, std::nullopt, 2)) ==
        std::vector<std::size_t>{1, 3});
  CHECK(affected_connections(rule(ActionKind::drop, selector(Role::final_ack), 1, 2u)) ==
        std::vector<std::size_t>{1, 2});
}

TEST_CASE("connection = N selects that connection only, and counts only its matches") {
  Selector second = selector(Role::final_ack);
  second.connection = ConnectionNumber{2};
  CHECK(affected_connections(rule(ActionKind::drop, second)) == std::vector<std::size_t>{2});
  // nth = 1 of connection 2's matches, though it is the second match overall.
  CHECK(affected_connections(rule(ActionKind::drop, second, 1, 1u)) == std::vector<std::size_t>{2});
  CHECK(affected_connections(rule(ActionKind::drop, second, 2, 1u)).empty());
}

TEST_CASE("a duplicate with until sends the original at once and holds its copies for the trigger") {
  FaultRule r = rule(ActionKind::duplicate, selector(Role::data, Side::client), 1);
  r.until = selector(Role::data, Side::server);
  DecisionEngine engine({r});
  const Decision first = engine.decide(1, seg(Role::data, Side::client), Instant{1ms});
  CHECK(first.action == ActionKind::duplicate);
  CHECK(first.copies == 1);
  CHECK(first.copies_held);
  const Decision second = engine.decide(2, seg(Role::data, Side::client), Instant{2ms});
  CHECK(second.copies_held);
  CHECK(engine.due(Instant{1s}).empty());  // no deadline: only the trigger frees them
  engine.decide(3, seg(Role::data, Side::server), Instant{3ms});
  const auto released = engine.due(Instant{3ms});
  REQUIRE(released.size() == 2);
  CHECK(released[0].packet == 1);
  CHECK(released[0].copies);
  CHECK(released[1].packet == 2);
  // After the trigger went by, a new copy has nothing to wait for: it goes with the original.
  const Decision late = engine.decide(4, seg(Role::data, Side::client), Instant{4ms});
  CHECK(late.action == ActionKind::duplicate);
  CHECK_FALSE(late.copies_held);
}

TEST_CASE("a plain duplicate's copies are never held, and held copies left at the end are released as copies") {
  DecisionEngine plain({rule(ActionKind::duplicate, selector(Role::fin), 1)});
  CHECK_FALSE(plain.decide(1, seg(Role::fin, Side::client), Instant{1ms}).copies_held);
  CHECK(plain.release_all().empty());

  FaultRule r = rule(ActionKind::duplicate, selector(Role::data), 1);
  r.until = selector(Role::rst);
  DecisionEngine held({r});
  held.decide(7, seg(Role::data, Side::client), Instant{1ms});
  const auto left = held.release_all();
  REQUIRE(left.size() == 1);
  CHECK(left[0].copies);
  CHECK(left[0].reason == "end of run");
}

TEST_CASE("per connection (connections = N), nth counts within each connection") {
  // Three connections, two final ACKs each (the second answers the retransmitted FIN).
  const auto dropped = [](bool per_connection) {
    DecisionEngine engine({rule(ActionKind::drop, selector(Role::final_ack, Side::client), 1, 1)}, per_connection);
    std::vector<std::pair<std::size_t, int>> out;  // (connection, its nth final ACK)
    std::uint64_t packet = 0;
    for (int n = 1; n <= 2; ++n)
      for (std::size_t c = 0; c < 3; ++c)
        if (!engine.decide(++packet, seg(Role::final_ack, Side::client, c), at(Millis(packet))).pass)
          out.emplace_back(c, n);
    return out;
  };
  CHECK(dropped(true) == std::vector<std::pair<std::size_t, int>>{{0, 1}, {1, 1}, {2, 1}});
  CHECK(dropped(false) == std::vector<std::pair<std::size_t, int>>{{0, 1}});
}

TEST_CASE("per connection, a hold waits for its own connection's until") {
  DecisionEngine engine({hold_until(selector(Role::syn, Side::client), selector(Role::fin, Side::server))}, true);
  CHECK_FALSE(engine.decide(1, seg(Role::syn, Side::client, 0), at(1ms)).pass);
  CHECK_FALSE(engine.decide(2, seg(Role::syn, Side::client, 1), at(2ms)).pass);
  (void)engine.decide(3, seg(Role::fin, Side::server, 1), at(3ms));
  const auto due = engine.due(at(3ms));
  REQUIRE(due.size() == 1);
  CHECK(due[0].packet == 2);  // connection 2's FIN releases connection 2's SYN only
}
