// Probabilistic faults in the decision engine: one draw per segment the counting picks, from the
// run's seed, so the same seed on the same wire decides the same segments.
#include <catch2/catch.hpp>

#include <map>
#include <utility>

#include "harness/core/decide/decision.hpp"
#include "harness/core/decide/segment_fate.hpp"

using namespace lastack;
using namespace std::chrono_literals;

namespace {

Classified data_from(Side from, std::size_t connection = 0) {
  Classified c;
  c.roles.add(Role::data);
  c.from = from;
  c.connection = ConnectionIndex{connection};
  return c;
}

FaultRule chance(double p, ActionKind action = ActionKind::drop) {
  FaultRule r;
  r.action = action;
  r.match.segment = Role::data;
  r.match.from = Side::server;
  r.probability = p;
  r.line = 20;
  return r;
}

/// Which of `n` server data segments (numbered from 1) the rules act on under `seed`.
std::vector<int> acted(std::vector<FaultRule> rules, std::uint64_t seed, int n) {
  DecisionEngine engine(std::move(rules), false, seed);
  std::vector<int> out;
  for (int i = 1; i <= n; ++i)
    if (!engine.decide(i, data_from(Side::server), instant_from_ns(i)).pass) out.push_back(i);
  return out;
}

}  // namespace

TEST_CASE("probability 0.1 under seed 7 drops fixed segments, and seed 8 others") {
  // The draws of seed 7's first stream below 0.1 are its 2nd, 7th and 11th (test_random_draw).
  CHECK(acted({chance(0.1)}, 7, 40) == std::vector<int>{2, 7, 11});
  CHECK(acted({chance(0.1)}, 7, 40) == acted({chance(0.1)}, 7, 40));
  CHECK(acted({chance(0.1)}, 8, 40) == std::vector<int>{10, 24});
}

TEST_CASE("probability 1 acts on every segment the counting picks") {
  CHECK(acted({chance(1.0)}, 7, 30).size() == 30);
  CHECK(acted({chance(1.0)}, 12345, 30).size() == 30);
}

TEST_CASE("each candidate's draw is recorded with the fault, its line, the match number and the value") {
  DecisionEngine engine({chance(0.1)}, false, 7);
  CHECK(engine.decide(1, data_from(Side::client), instant_from_ns(0)).draws.empty());  // not selected: no draw
  const Decision first = engine.decide(2, data_from(Side::server), instant_from_ns(1));
  REQUIRE(first.draws.size() == 1);
  CHECK(first.draws[0] == FaultDraw{0, 20, 1, 0.1, 0.77044053834521886, false});
  CHECK(first.pass);
  const Decision second = engine.decide(3, data_from(Side::server), instant_from_ns(2));
  REQUIRE(second.draws.size() == 1);
  CHECK(second.draws[0] == FaultDraw{0, 20, 2, 0.1, 0.094451261955719179, true});
  CHECK_FALSE(second.pass);
  CHECK(second.action == ActionKind::drop);
  CHECK(second.fault == 0u);
}

TEST_CASE("count counts draws: the counting picks the segments, the draw thins them") {
  FaultRule five = chance(0.1);
  five.count = 5;  // the first five server data segments, each with p = 0.1
  DecisionEngine engine({five}, false, 7);
  std::vector<int> drawn, fired;
  for (int i = 1; i <= 20; ++i) {
    const Decision d = engine.decide(i, data_from(Side::server), instant_from_ns(i));
    if (!d.draws.empty()) drawn.push_back(i);
    if (!d.pass) fired.push_back(i);
  }
  CHECK(drawn == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(fired == std::vector<int>{2});
}

TEST_CASE("nth with a probability draws for the nth segment only") {
  FaultRule third = chance(0.5);
  third.nth = 3;
  third.count = 1;  // as the parser reads `nth = 3`
  DecisionEngine engine({third}, false, 7);
  std::vector<std::uint64_t> matches;
  for (int i = 1; i <= 10; ++i)
    for (const FaultDraw& d : engine.decide(i, data_from(Side::server), instant_from_ns(i)).draws)
      matches.push_back(d.match);
  CHECK(matches == std::vector<std::uint64_t>{3});
}

TEST_CASE("a segment whose draw did not fire is left to the next rule") {
  FaultRule dup;
  dup.action = ActionKind::duplicate;
  dup.match.segment = Role::data;
  DecisionEngine engine({chance(0.1), dup}, false, 7);
  std::vector<int> dropped, duplicated;
  for (int i = 1; i <= 12; ++i) {
    const Decision d = engine.decide(i, data_from(Side::server), instant_from_ns(i));
    REQUIRE_FALSE(d.pass);
    (d.action == ActionKind::drop ? dropped : duplicated).push_back(i);
  }
  CHECK(dropped == std::vector<int>{2, 7, 11});
  CHECK(duplicated.size() == 9);
}

TEST_CASE("per connection, each connection's draws do not depend on how the connections interleave") {
  const auto decide_in = [](const std::vector<std::size_t>& order) {
    DecisionEngine engine({chance(0.3)}, true, 7);
    std::map<std::size_t, std::vector<int>> fired;
    std::map<std::size_t, int> n;
    for (std::size_t c : order)
      if (++n[c]; !engine.decide(1, data_from(Side::server, c), instant_from_ns(0)).pass) fired[c].push_back(n[c]);
    return fired;
  };
  std::vector<std::size_t> together, apart;
  for (int i = 0; i < 30; ++i) together.insert(together.end(), {0, 1});
  for (std::size_t c : {1, 0})
    for (int i = 0; i < 30; ++i) apart.push_back(c);
  const auto a = decide_in(together), b = decide_in(apart);
  CHECK(a == b);
  REQUIRE(a.count(0));
  REQUIRE(a.count(1));
  CHECK(a.at(0) != a.at(1));  // streams of their own
}

TEST_CASE("a segment dropped by chance says so in its note, with p and the draw") {
  DecisionEngine engine({chance(0.1)}, false, 7);
  (void)engine.decide(1, data_from(Side::server), instant_from_ns(0));
  const Decision d = engine.decide(2, data_from(Side::server), instant_from_ns(1));
  const SegmentFate f = segment_fate(d, {chance(0.1)}, 2, 60, 60);
  CHECK(f.fate == Fate::dropped);
  CHECK(f.note == "dropped by fault 1: data (by chance: p=0.1, drew 0.0945)");
}

TEST_CASE("draws_at_random is true only when some fault has a probability") {
  Policy p;
  CHECK_FALSE(draws_at_random(p));
  p.faults.push_back(FaultRule{});
  CHECK_FALSE(draws_at_random(p));
  p.faults.push_back(chance(0.5));
  CHECK(draws_at_random(p));
}
