// The run's end as a state machine (core/run_end): every phase, its inputs, and the end's order.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "harness/core/decide/run_end.hpp"

using namespace lastack;
using namespace lastack::run_end;
using namespace std::chrono_literals;

namespace {

Rules rules() {
  Rules r;
  r.settle = 500ms;
  r.deadline = Instant(15s);
  r.may_end_early = true;
  return r;
}

// The tasks' names, so a failure reads as the run's steps.
std::vector<std::string> names(const std::vector<Action>& actions) {
  std::vector<std::string> out;
  for (const Action& a : actions) out.emplace_back(task_name(a.task));
  return out;
}

const std::vector<std::string> the_end = {"record-pending", "sample-final",  "read-counters",    "mark-run-end",
                                          "cancel-timers",  "stop-agents",   "end-processes",    "stop-interceptor",
                                          "stop-capture",   "stop-observers"};

std::vector<std::string> then_end(std::vector<std::string> first) {
  first.insert(first.end(), the_end.begin(), the_end.end());
  return first;
}

// Feeds `inputs` in order from `state`; the last transition.
Transition feed(const Rules& r, State& state, std::initializer_list<Input> inputs) {
  Transition t{state, {}};
  for (const Input& in : inputs) {
    t = next(r, state, in);
    state = t.state;
  }
  return t;
}

// A run whose agents were both done at `at`: settling.
State settling_from(const Rules& r, Instant at) {
  State s;
  feed(r, s, {AgentDone{Side::client, at}, AgentDone{Side::server, at}});
  return s;
}

std::size_t index_of(const std::vector<std::string>& tasks, const std::string& task) {
  return static_cast<std::size_t>(std::find(tasks.begin(), tasks.end(), task) - tasks.begin());
}

}  // namespace

TEST_CASE("run end: running until both agents are done, then settling with settled polls") {
  const Rules r = rules();
  State s;
  Transition t = next(r, s, AgentDone{Side::client, Instant(80ms)});
  CHECK(t.state.phase == Phase::running);
  CHECK(t.actions.empty());
  t = next(r, t.state, AgentDone{Side::server, Instant(100ms)});
  CHECK(t.state.phase == Phase::settling);
  CHECK(t.state.settle_until == Instant(600ms));
  CHECK(names(t.actions) == std::vector<std::string>{"start-settle", "arm-settled-poll"});
  CHECK(t.actions[0].wait == 500ms);
  CHECK(t.actions[1].wait == settled_poll);
}

TEST_CASE("run end: a finish side settles the run alone, and the other side's end changes nothing") {
  Rules r = rules();
  r.finish_with = Side::client;
  r.may_end_early = false;  // a finish side may still be running
  State s;
  Transition t = next(r, s, AgentDone{Side::server, Instant(10ms)});
  CHECK(t.state.phase == Phase::running);
  CHECK(t.actions.empty());
  t = next(r, t.state, AgentDone{Side::client, Instant(20ms)});
  CHECK(t.state.phase == Phase::settling);
  CHECK(names(t.actions) == std::vector<std::string>{"start-settle"});
  r.finish_with = Side::server;
  State first;
  t = next(r, first, AgentDone{Side::server, Instant(5ms)});
  CHECK(t.state.phase == Phase::settling);
  t = next(r, t.state, AgentDone{Side::client, Instant(30ms)});
  CHECK(t.state.phase == Phase::settling);
  CHECK(t.state.settle_until == Instant(505ms));
  CHECK(t.actions.empty());
}

TEST_CASE("run end: under exec (may not end early) the run settles without settled polls") {
  Rules r = rules();
  r.may_end_early = false;
  const State s = settling_from(r, Instant(1s));
  CHECK(s.phase == Phase::settling);
  State again;
  const Transition t = feed(r, again, {AgentDone{Side::client, Instant(1s)}, AgentDone{Side::server, Instant(1s)}});
  CHECK(names(t.actions) == std::vector<std::string>{"start-settle"});
}

TEST_CASE("run end: a timeout while the programs run is logged, then the run ends in order") {
  State s;
  const Transition t = next(rules(), s, Timeout{});
  CHECK(t.state.phase == Phase::ended);
  CHECK(names(t.actions) == then_end({"record-timeout"}));
}

TEST_CASE("run end: the end reads the counters before the agents stop, and the capture stops last but one") {
  const auto tasks = names(next(rules(), State{}, Timeout{}).actions);
  CHECK(index_of(tasks, "record-pending") < index_of(tasks, "read-counters"));  // its sample is in the trace
  CHECK(index_of(tasks, "sample-final") < index_of(tasks, "read-counters"));
  CHECK(index_of(tasks, "read-counters") < index_of(tasks, "mark-run-end"));  // run_end covers what they counted
  CHECK(index_of(tasks, "mark-run-end") < index_of(tasks, "stop-agents"));   // their stop is the teardown's
  CHECK(index_of(tasks, "stop-agents") < index_of(tasks, "end-processes"));
  CHECK(index_of(tasks, "stop-interceptor") < index_of(tasks, "stop-capture"));  // what it released has left
  CHECK(index_of(tasks, "stop-capture") < index_of(tasks, "stop-observers"));
  CHECK(tasks.back() == "stop-observers");
}

TEST_CASE("run end: the settle time up, the run observes while evidence is due before the deadline") {
  const Rules r = rules();
  State s = settling_from(r, Instant(1s));
  Transition t = next(r, s, SettleTimer{});
  CHECK(t.state.phase == Phase::awaiting_evidence);
  CHECK(names(t.actions) == std::vector<std::string>{"look-evidence"});
  t = next(r, t.state, EvidenceLook{Instant(15s) - 1ms});
  CHECK(t.state.phase == Phase::awaiting_evidence);
  CHECK(names(t.actions) == std::vector<std::string>{"arm-evidence-poll"});
  CHECK(t.actions[0].wait == evidence_poll);
  t = next(r, t.state, SettleTimer{});  // the poll
  CHECK(names(t.actions) == std::vector<std::string>{"look-evidence"});
  SECTION("nothing pending: the end, no timeout") {
    t = next(r, t.state, EvidenceLook{std::nullopt});
    CHECK(t.state.phase == Phase::ended);
    CHECK(names(t.actions) == the_end);
  }
  SECTION("due at the deadline: it cannot come in time") {
    t = next(r, t.state, EvidenceLook{Instant(15s)});
    CHECK(t.state.phase == Phase::ended);
    CHECK(names(t.actions) == the_end);
  }
}

TEST_CASE("run end: a timeout with evidence still pending ends the run, not as a timeout") {
  const Rules r = rules();
  State s = settling_from(r, Instant(14s));
  feed(r, s, {SettleTimer{}, EvidenceLook{Instant(14900ms)}});
  CHECK(s.phase == Phase::awaiting_evidence);
  const Transition t = next(r, s, Timeout{});
  CHECK(t.state.phase == Phase::ended);
  CHECK(names(t.actions) == the_end);  // the pending list, first, says what was still to come
  State settling = settling_from(r, Instant(14s));
  CHECK(names(next(r, settling, Timeout{}).actions) == the_end);
}

TEST_CASE("run end: settled for the grace with no new segment ends the settle early") {
  const Rules r = rules();
  State s = settling_from(r, Instant(0ms));
  Transition t = next(r, s, SettledPoll{Instant(4ms)});
  REQUIRE(names(t.actions) == std::vector<std::string>{"look-settled"});
  CHECK(t.actions[0].wait == 496ms);  // the settle time left
  t = feed(r, s, {SettledPoll{Instant(4ms)}, SettledLook{true, 10}});
  CHECK(s.settled_since == Instant(4ms));
  CHECK(names(t.actions) == std::vector<std::string>{"arm-settled-poll"});
  t = feed(r, s, {SettledPoll{Instant(10ms)}, SettledLook{true, 10}});
  CHECK(t.state.phase == Phase::settling);  // 6 ms settled: not yet the grace
  SECTION("the grace passes quiet: the end") {
    t = feed(r, s, {SettledPoll{Instant(16ms)}, SettledLook{true, 10}});
    CHECK(t.state.phase == Phase::ended);
    CHECK(names(t.actions) == the_end);
  }
  SECTION("a new segment restarts the grace") {
    t = feed(r, s, {SettledPoll{Instant(16ms)}, SettledLook{true, 11}});
    CHECK(t.state.phase == Phase::settling);
    CHECK(s.settled_since == Instant(16ms));
    t = feed(r, s, {SettledPoll{Instant(27ms)}, SettledLook{true, 11}});
    CHECK(t.state.phase == Phase::settling);
    t = feed(r, s, {SettledPoll{Instant(28ms)}, SettledLook{true, 11}});
    CHECK(t.state.phase == Phase::ended);
  }
  SECTION("unsettled forgets when it was settled") {
    t = feed(r, s, {SettledPoll{Instant(16ms)}, SettledLook{false, 10}});
    CHECK(t.state.phase == Phase::settling);
    CHECK_FALSE(s.settled_since);
    CHECK(names(t.actions) == std::vector<std::string>{"arm-settled-poll"});
  }
}

TEST_CASE("run end: a settled poll with under a millisecond left neither looks nor polls again") {
  const Rules r = rules();
  State s = settling_from(r, Instant(0ms));
  const Transition t = next(r, s, SettledPoll{Instant(499500us)});
  CHECK(t.state.phase == Phase::settling);
  CHECK(t.actions.empty());  // the settle timer ends the settle
}

TEST_CASE("run end: inputs a phase does not expect change nothing") {
  const Rules r = rules();
  const State running;
  CHECK(next(r, running, SettleTimer{}).actions.empty());
  CHECK(next(r, running, SettledPoll{Instant(4ms)}).actions.empty());
  CHECK(next(r, running, EvidenceLook{Instant(1ms)}).actions.empty());
  const State settling = settling_from(r, Instant(0ms));
  CHECK(next(r, settling, EvidenceLook{std::nullopt}).state == settling);
  CHECK(next(r, settling, EvidenceLook{std::nullopt}).actions.empty());
  State awaiting = settling;
  feed(r, awaiting, {SettleTimer{}});
  CHECK(next(r, awaiting, SettledPoll{Instant(4ms)}).actions.empty());
  CHECK(next(r, awaiting, SettledLook{true, 0}).state == awaiting);
}

TEST_CASE("run end: once ended, every input is ignored") {
  const Rules r = rules();
  State ended;
  feed(r, ended, {Timeout{}});
  REQUIRE(ended.phase == Phase::ended);
  for (const Input& in : {Input{AgentDone{Side::client, Instant(1s)}}, Input{Timeout{}}, Input{SettleTimer{}},
                          Input{SettledPoll{Instant(1s)}}, Input{SettledLook{true, 0}}, Input{EvidenceLook{}}}) {
    const Transition t = next(r, ended, in);
    CHECK(t.state == ended);
    CHECK(t.actions.empty());
  }
  CHECK(phase_name(Phase::awaiting_evidence) == "awaiting-evidence");
}
