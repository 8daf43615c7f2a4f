// The step-through player's steps: each segment with the state changes it caused on each side,
// built from whatever bands the ladder draws; the questions a page asks, answered from them.
#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "harness/core/report/html_report.hpp"
#include "harness/core/report/lesson_questions.hpp"
#include "harness/core/report/state_diagram.hpp"
#include "harness/core/report/step_list.hpp"
#include "tests/unit/trace_builder.hpp"

using namespace lastack;
using namespace lastack::testing;
using Catch::Matchers::Contains;

namespace {
struct Run {
  Trace trace;
  WireIndex wire;
  std::vector<PlayStep> steps;
};

Run stepped(Trace trace) {
  Run r{std::move(trace), {}, {}};
  r.wire = index_wire(r.trace);
  r.steps = play_steps(r.trace, state_bands(r.trace), r.wire);
  return r;
}

// "client ESTABLISHED>FIN_WAIT_1, server ..." for one step.
std::string changes(const PlayStep& s) {
  std::string out;
  for (const PlayChange& c : s.changes)
    out += (out.empty() ? "" : ", ") + std::string(side_name(c.side)) + " " + std::string(state_name(c.from)) + ">" +
           std::string(state_name(c.to));
  return out;
}

std::size_t count(const std::string& text, const std::string& piece) {
  std::size_t n = 0;
  for (auto at = text.find(piece); at != std::string::npos; at = text.find(piece, at + piece.size())) ++n;
  return n;
}

LessonQuestion question(AnswerKind kind, std::optional<Role> before, std::vector<std::string> choices,
                        Side side = Side::client, std::size_t nth = 1) {
  LessonQuestion q;
  q.policy = "drop-final-ack";
  q.ask = "what now?";
  q.answer = kind;
  q.side = side;
  q.before = before;
  q.nth = nth;
  q.choices = std::move(choices);
  return q;
}
}  // namespace

TEST_CASE("play steps: each segment is a step holding the changes it caused on each side") {
  const Run r = stepped(drop_final_ack_trace());
  REQUIRE(r.steps.size() == 11);  // one per segment: every change here has its segment
  for (std::size_t i = 0; i < r.steps.size(); ++i) CHECK(r.steps[i].segment == i);
  CHECK(changes(r.steps[0]) == "client CLOSED>SYN_SENT");           // connect() sends the SYN
  CHECK(changes(r.steps[1]) == "client SYN_SENT>ESTABLISHED");      // rcv SYN,ACK
  CHECK(changes(r.steps[2]) == "server CLOSED>ESTABLISHED");        // no step of the diagram: the segment before it
  CHECK(changes(r.steps[5]) == "client ESTABLISHED>FIN_WAIT_1, server ESTABLISHED>CLOSE_WAIT");  // the FIN, both ends
  CHECK(changes(r.steps[6]) == "client FIN_WAIT_1>FIN_WAIT_2");     // its ACK arrives
  CHECK(changes(r.steps[7]) == "server CLOSE_WAIT>LAST_ACK, client FIN_WAIT_2>TIME_WAIT");
  CHECK(changes(r.steps[8]).empty());                               // the dropped final ACK changes nothing
  CHECK(changes(r.steps[10]) == "server LAST_ACK>CLOSED");          // the second final ACK ends LAST_ACK
  CHECK(r.steps[6].changes[0].why == "rcv ACK of FIN");
  CHECK(r.steps[6].changes[0].band != PlayChange::no_band);
  CHECK(r.steps[10].changes[0].band == PlayChange::no_band);  // a socket's end starts no band
}

TEST_CASE("play steps: a change no segment caused is a step of its own, in time order") {
  Trace t = drop_final_ack_trace();
  t.events.emplace_back([] {
    SocketEvent s;  // the TIME_WAIT socket's end, long after the last segment
    s.at = ms(700);
    s.side = Side::client;
    s.local_port = 40000;
    s.remote_port = 8080;
    s.state = TcpState::CLOSE;
    return s;
  }());
  const Run r = stepped(std::move(t));
  REQUIRE(r.steps.size() == 12);
  CHECK(!r.steps.back().segment);
  CHECK(changes(r.steps.back()) == "client TIME_WAIT>CLOSED");
  CHECK(r.steps.back().changes[0].why.starts_with("2 MSL timeout"));
}

TEST_CASE("play steps: any band the ladder draws is stepped over, a request socket's SYN_RECV on the SYN") {
  Run r = stepped(drop_final_ack_trace());
  std::vector<StateBand> bands = state_bands(r.trace);
  StateBand request;  // a band kind state_bands may draw: the server's request socket, from the SYN on
  request.side = Side::server;
  request.state = TcpState::SYN_RECV;
  request.start = ms(0.05);
  request.end = ms(0.3);
  bands.insert(bands.begin(), request);
  const auto steps = play_steps(r.trace, bands, r.wire);
  CHECK(changes(steps[0]) == "client CLOSED>SYN_SENT, server CLOSED>SYN_RECV");  // no listener in this trace
  CHECK(changes(steps[1]) == "client SYN_SENT>ESTABLISHED");
  CHECK(changes(steps[2]) == "server SYN_RECV>ESTABLISHED");  // rcv ACK of SYN
  CHECK(steps[2].changes[0].band == 1 + 5);  // bands shifted by one: the client's five, then the server's first
  CHECK(state_path(steps, Side::server, {}) ==
        std::vector<TcpState>{TcpState::CLOSE, TcpState::SYN_RECV, TcpState::ESTABLISHED, TcpState::CLOSE_WAIT,
                              TcpState::LAST_ACK, TcpState::CLOSE});
}

TEST_CASE("play steps: a handover within SYN_RECV (request socket to child) never steps the diagram back") {
  Run r = stepped(drop_final_ack_trace());
  std::vector<StateBand> bands = state_bands(r.trace);
  const auto established = std::find_if(bands.begin(), bands.end(), [](const StateBand& b) {
    return b.side == Side::server && b.state == TcpState::ESTABLISHED;
  });
  REQUIRE(established != bands.end());
  StateBand request;  // the request socket from the SYN on, then its child, 14 us before ESTABLISHED
  request.side = Side::server;
  request.state = TcpState::SYN_RECV;
  request.start = ms(0.05);
  request.end = established->start - std::chrono::microseconds(14);
  StateBand child = request;
  child.start = request.end;
  child.end = established->start;
  const auto at = bands.insert(established, child);
  bands.insert(at, request);
  const auto steps = play_steps(r.trace, bands, r.wire);
  CHECK(changes(steps[0]) == "client CLOSED>SYN_SENT, server CLOSED>SYN_RECV, server SYN_RECV>SYN_RECV");
  CHECK(state_path(steps, Side::server, {}) ==
        std::vector<TcpState>{TcpState::CLOSE, TcpState::SYN_RECV, TcpState::ESTABLISHED, TcpState::CLOSE_WAIT,
                              TcpState::LAST_ACK, TcpState::CLOSE});
}

TEST_CASE("questions: the client's state after the second wave is the run's FIN_WAIT_2") {
  const Run r = stepped(drop_final_ack_trace());
  const auto on = answer_on_run(question(AnswerKind::state, Role::first_fin_ack,
                                         {"CLOSE_WAIT", "LAST_ACK", "FIN_WAIT_2", "TIME_WAIT"}),
                                r.steps, r.wire);
  REQUIRE(on.page);
  CHECK(on.page->before == 6);
  CHECK(on.page->answer == "FIN_WAIT_2");
  CHECK(on.page->correct == 2u);
  CHECK_THAT(on.page->evidence, Contains("After step 7"));
  // The same question on the server: CLOSE_WAIT, which no choice but the first is.
  const auto server = answer_on_run(question(AnswerKind::state, Role::first_fin_ack,
                                             {"CLOSE_WAIT", "TIME_WAIT"}, Side::server),
                                    r.steps, r.wire);
  CHECK(server.page->answer == "CLOSE_WAIT");
  CHECK(server.page->correct == 0u);
}

TEST_CASE("questions: a reply, a path, a choice that is not the kernel's, a segment the run lacks") {
  const Run r = stepped(drop_final_ack_trace());
  const auto reply = answer_on_run(question(AnswerKind::reply, Role::second_fin, {"ACK", "RST", "nothing"}, Side::client, 2),
                                   r.steps, r.wire);
  REQUIRE(reply.page);
  CHECK(reply.page->before == 9);
  CHECK(reply.page->answer == "ACK");
  CHECK(reply.page->correct == 0u);
  const auto dropped = answer_on_run(question(AnswerKind::reply, Role::final_ack, {"ACK", "nothing"}), r.steps, r.wire);
  CHECK(dropped.page->answer == "nothing");  // it never reached the server
  const auto path = answer_on_run(
      question(AnswerKind::path, std::nullopt,
               {"CLOSED → SYN_SENT → ESTABLISHED → FIN_WAIT_1 → TIME_WAIT",
                "CLOSED -> SYN_SENT -> ESTABLISHED -> FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT"}),
      r.steps, r.wire);
  REQUIRE(path.page);
  CHECK(path.page->before == 0);
  CHECK(path.page->answer == "CLOSED → SYN_SENT → ESTABLISHED → FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT");
  CHECK(path.page->correct == 1u);
  const auto none = answer_on_run(question(AnswerKind::state, Role::first_fin_ack, {"LAST_ACK", "TIME_WAIT"}),
                                  r.steps, r.wire);
  CHECK(!none.page->correct);
  const auto missing = answer_on_run(question(AnswerKind::state, Role::rst, {"LAST_ACK", "TIME_WAIT"}), r.steps, r.wire);
  CHECK(!missing.page);
  CHECK(missing.missing == "the run has no rst segment number 1");
}

TEST_CASE("state diagram: RFC 9293's eleven states (CLOSED twice) and its twenty arrows") {
  const std::string svg = render_state_diagram(Side::server);
  CHECK(count(svg, "<g class=\"node\"") == 12);
  CHECK(count(svg, "<g class=\"edge\"") == 20);
  for (const char* state : {"CLOSED", "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2",
                            "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"})
    CHECK(count(svg, fmt::format("data-state=\"{}\"", state)) >= 1);
  CHECK_THAT(svg, Contains("SYN-RECEIVED"));
  CHECK_THAT(svg, Contains("data-from=\"FIN_WAIT_1\" data-to=\"FIN_WAIT_2\""));
  CHECK(diagram_arrow(TcpState::FIN_WAIT1, TcpState::FIN_WAIT2) == "rcv ACK of FIN");
  CHECK(diagram_arrow(TcpState::FIN_WAIT1, TcpState::TIME_WAIT).empty());  // Linux's step, not the figure's
  CHECK(count(svg, "id=\"sd-arrow-server\"") == 1);  // its own marker: two diagrams share a page
}

TEST_CASE("html report: the player, both diagrams, a step per segment, and nothing from outside") {
  const Trace trace = drop_final_ack_trace();
  PageQuestion q{6, "which state?", "第二次挥手", {"FIN_WAIT_2", "TIME_WAIT"}, "FIN_WAIT_2", 0, "After step 7."};
  const std::string page = render_html_report(trace, {}, {"drop-final-ack", "sum", "drop-final-ack.toml", "", {q}});
  CHECK(count(page, "<li id=\"step-") == 11);
  CHECK(count(page, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"diagram\"") == 2);
  CHECK(count(page, "id=\"play-data\"") == 1);
  CHECK(count(page, "data-band=\"") == 8);
  CHECK_THAT(page, Contains("<div class=\"player\" id=\"player\" hidden>"));  // shown by the script only
  CHECK_THAT(page, Contains("<section class=\"question\" id=\"question-1\" data-before=\"7\" data-answer=\"FIN_WAIT_2\""));
  CHECK_THAT(page, Contains("<details><summary>the kernel's answer</summary>"));  // without script: folded away
  CHECK_THAT(page, Contains("第二次挥手"));
  // Self-contained: the only URL is SVG's namespace name, which is never fetched.
  CHECK(count(page, "http://") == count(page, "xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK(count(page, "https://") == 0);
  CHECK(count(page, "src=") == 0);
  CHECK(count(page, "<link") == 0);
  CHECK(count(page, "@import") == 0);
  CHECK(count(page, "fetch(") == 0);
  CHECK(count(page, "</script>") == 3);  // the error hook, the data, the player: the data cannot close early
}

TEST_CASE("play steps: a FIN captured a moment before the kernel's FIN_WAIT_1 still carries that change") {
  Trace t = drop_final_ack_trace();
  for (TraceEvent& ev : t.events)  // the tracepoint's clock a little behind the capture's
    if (auto* s = std::get_if<SocketEvent>(&ev); s && s->state == TcpState::FIN_WAIT1) s->at = ms(2.05);
  const Run r = stepped(std::move(t));
  REQUIRE(r.steps.size() == 11);
  CHECK(changes(r.steps[5]) == "client ESTABLISHED>FIN_WAIT_1, server ESTABLISHED>CLOSE_WAIT");
  CHECK(changes(r.steps[8]).empty());  // not the client's next segment, the final ACK
}
