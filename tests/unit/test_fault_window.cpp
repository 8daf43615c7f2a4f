// Fault windows: when a fault is active on the run's clock, anchored at the run's start or at a
// segment, and what the trace says where a window opens and closes.
#include <catch2/catch.hpp>

#include <sstream>

#include "classified.hpp"
#include "harness/core/decide/decision.hpp"
#include "harness/core/decide/fault_window.hpp"
#include "harness/core/record/trace_reader.hpp"
#include "lastack/trace_jsonl.hpp"

using namespace lastack;
using lastack::test::seg;
using namespace std::chrono_literals;

namespace {

Instant at(Millis ms) { return Instant(ms); }

FaultWindow window(Millis from, std::optional<Millis> length) {
  FaultWindow w;
  w.from = from;
  w.length = length;
  return w;
}

/// A drop of every segment, both ways, in `w`.
FaultRule dark(FaultWindow w) {
  FaultRule r;
  r.action = ActionKind::drop;
  r.window = w;
  return r;
}

/// A window opening after the `nth` data segment from the server.
FaultWindow after_server_data(std::uint32_t nth, Millis from, std::optional<Millis> length) {
  FaultWindow w = window(from, length);
  Selector s;
  s.segment = Role::data;
  s.from = Side::server;
  w.after = s;
  w.after_nth = nth;
  return w;
}

}  // namespace

TEST_CASE("a window is open from its start, up to but not at its end", "[fault-window]") {
  const WindowSpan span = window_span(window(1s, 3s), Instant{});
  CHECK(span.opens == at(1s));
  CHECK(span.closes == at(4s));
  CHECK(window_phase(span, at(999ms)) == WindowPhase::waiting);
  CHECK(window_phase(span, at(1s)) == WindowPhase::open);
  CHECK(window_phase(span, at(3999ms)) == WindowPhase::open);
  CHECK(window_phase(span, at(4s)) == WindowPhase::closed);
  // Without `for`, open until the run ends; anchored later, everything moves with the anchor.
  const WindowSpan open_ended = window_span(window(0ms, std::nullopt), at(2s));
  CHECK(open_ended.opens == at(2s));
  CHECK_FALSE(open_ended.closes);
  CHECK(window_phase(open_ended, at(1h)) == WindowPhase::open);
}

TEST_CASE("a dark window drops every segment both ways inside it and none outside", "[fault-window]") {
  DecisionEngine engine({dark(window(1s, 3s))});
  CHECK(engine.decide(1, seg(Role::data, Side::client), at(900ms)).pass);
  CHECK_FALSE(engine.decide(2, seg(Role::data, Side::client), at(1s)).pass);
  CHECK_FALSE(engine.decide(3, seg(Role::ack, Side::server), at(2s)).pass);
  CHECK_FALSE(engine.decide(4, seg(Role::syn, Side::client, 1), at(3999ms)).pass);
  CHECK(engine.decide(5, seg(Role::data, Side::client), at(4s)).pass);
  CHECK(engine.decide(6, seg(Role::ack, Side::server), at(5s)).pass);
}

TEST_CASE("only segments inside the window count toward nth and count", "[fault-window]") {
  FaultRule r = dark(window(1s, std::nullopt));
  r.nth = 2;
  r.count = 1;
  DecisionEngine engine({r});
  // Two before the window: not counted, so the second inside it is the one.
  CHECK(engine.decide(1, seg(Role::data, Side::client), at(100ms)).pass);
  CHECK(engine.decide(2, seg(Role::data, Side::client), at(200ms)).pass);
  CHECK(engine.decide(3, seg(Role::data, Side::client), at(1100ms)).pass);
  CHECK_FALSE(engine.decide(4, seg(Role::data, Side::client), at(1200ms)).pass);
  CHECK(engine.decide(5, seg(Role::data, Side::client), at(1300ms)).pass);
}

TEST_CASE("a window anchored at a segment opens after it, never on it", "[fault-window]") {
  DecisionEngine engine({dark(after_server_data(3, 0ms, 1s))});
  for (std::uint64_t i = 1; i <= 3; ++i)
    CHECK(engine.decide(i, seg(Role::data, Side::server), at(Millis(i))).pass);  // the 3rd is the anchor
  CHECK_FALSE(engine.decide(4, seg(Role::ack, Side::client), at(4ms)).pass);
  CHECK_FALSE(engine.decide(5, seg(Role::data, Side::server), at(1002ms)).pass);
  CHECK(engine.decide(6, seg(Role::data, Side::server), at(1003ms)).pass);  // 3 ms + 1 s: closed
}

TEST_CASE("no anchor, no window: a segment-anchored fault never acts before its segment", "[fault-window]") {
  const std::vector<FaultRule> rules = {dark(after_server_data(1, 0ms, std::nullopt))};
  DecisionEngine engine(rules);
  for (std::uint64_t i = 1; i <= 5; ++i) CHECK(engine.decide(i, seg(Role::data, Side::client), at(Millis(i))).pass);
  CHECK(engine.window_edges(at(1h)).empty());
  // The run says the fault did nothing.
  const auto never = engine.windows_never_opened(at(1h));
  REQUIRE(never == std::vector<std::size_t>{0});
  const auto notes = never_opened_notes(rules, never, at(1h));
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].kind == LabEventKind::note);
  CHECK(notes[0].what == "fault 1's window never opened before the run ended (from 0ms after data from server): it "
                         "acted on nothing");
}

TEST_CASE("a window that opens after the run's end never opened, one that opened did", "[fault-window]") {
  const std::vector<FaultRule> rules = {dark(window(1s, 3s)), dark(window(20s, std::nullopt))};
  const FaultWindows windows(rules, false);
  CHECK(windows.never_opened(at(5s)) == std::vector<std::size_t>{1});
  CHECK(windows.never_opened(at(500ms)) == std::vector<std::size_t>{0, 1});
}

TEST_CASE("per connection, each connection's window opens after its own anchor", "[fault-window]") {
  DecisionEngine engine({dark(after_server_data(1, 0ms, std::nullopt))}, true);
  CHECK(engine.decide(1, seg(Role::data, Side::server, 0), at(1ms)).pass);   // connection 1's anchor
  CHECK_FALSE(engine.decide(2, seg(Role::ack, Side::client, 0), at(2ms)).pass);
  CHECK(engine.decide(3, seg(Role::ack, Side::client, 1), at(3ms)).pass);    // connection 2: no anchor yet
  const auto edges = engine.window_edges(at(1h));
  REQUIRE(edges.size() == 1);
  CHECK(edges[0] == WindowEdge{0, ConnectionIndex{0}, at(1ms), true});
}

TEST_CASE("window edges: what happened by the run's end, in time order", "[fault-window]") {
  const std::vector<FaultRule> rules = {dark(window(1s, 3s)), dark(window(2s, std::nullopt))};
  FaultWindows windows(rules, false);
  const auto edges = windows.edges(at(3s));  // the run ended before the first window closed
  REQUIRE(edges.size() == 2);
  CHECK(edges[0] == WindowEdge{0, std::nullopt, at(1s), true});
  CHECK(edges[1] == WindowEdge{1, std::nullopt, at(2s), true});
  const auto all = windows.edges(at(10s));
  REQUIRE(all.size() == 3);
  CHECK(all[2] == WindowEdge{0, std::nullopt, at(4s), false});

  const auto events = window_events(rules, all);
  REQUIRE(events.size() == 3);
  CHECK(events[0].kind == LabEventKind::window_opened);
  CHECK(events[0].fault == std::size_t{0});
  CHECK(events[0].what == "fault 1's window opens (from 1s for 3s after the run's start)");
  CHECK(events[2].kind == LabEventKind::window_closed);
  CHECK(events[2].at == at(4s));
  CHECK(events[2].what == "fault 1's window closes (open 3s)");
  CHECK(window_text(after_server_data(3, 500ms, 2s)) == "from 500ms for 2s after data from server #3");
}

TEST_CASE("a window's edge survives the JSON trace with its fault", "[fault-window][trace-reader]") {
  Trace trace;
  trace.policy = "t";
  const std::vector<FaultRule> rules = {dark(window(1s, 3s))};
  for (LabEvent& e : window_events(rules, FaultWindows(rules, false).edges(at(10s)))) trace.events.emplace_back(e);
  std::stringstream out;
  write_jsonl(trace, {}, out);
  CHECK(out.str().find("\"kind\":\"window-opened\"") != std::string::npos);
  const Trace back = read_trace_jsonl(out, "t.jsonl");
  REQUIRE(back.events.size() == 2);
  const auto& closed = std::get<LabEvent>(back.events[1]);
  CHECK(closed.kind == LabEventKind::window_closed);
  CHECK(closed.fault == std::size_t{0});
  CHECK(closed.at == at(4s));
}

TEST_CASE("a reset fault decides like a drop, and the first match only by default", "[fault-window][reset]") {
  FaultRule r;
  r.action = ActionKind::reset;
  r.match.segment = Role::data;
  r.match.from = Side::server;
  r.nth = 4;
  r.count = 1;
  DecisionEngine engine({r});
  for (std::uint64_t i = 1; i <= 3; ++i) CHECK(engine.decide(i, seg(Role::data, Side::server), at(Millis(i))).pass);
  const Decision d = engine.decide(4, seg(Role::data, Side::server), at(4ms));
  CHECK_FALSE(d.pass);
  CHECK(d.action == ActionKind::reset);
  CHECK(engine.decide(5, seg(Role::data, Side::server), at(5ms)).pass);
}
