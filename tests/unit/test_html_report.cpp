// The HTML report: the SVG ladder drawn from a built trace, the verdict table, the index.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "harness/core/report/html_report.hpp"
#include "harness/core/report/ladder_model.hpp"
#include "harness/core/report/svg.hpp"
#include "harness/core/report/svg_ladder.hpp"
#include "tests/unit/trace_builder.hpp"

using namespace lastack;
using namespace lastack::testing;
using Catch::Matchers::Contains;

namespace {

std::size_t count(const std::string& text, const std::string& piece) {
  std::size_t n = 0;
  for (auto at = text.find(piece); at != std::string::npos; at = text.find(piece, at + piece.size())) ++n;
  return n;
}

std::vector<CheckResult> some_results() {
  return {{"invariant: fin-consumes-seq", true, Outcome::pass, "FIN takes one", "it did", 0},
          {"retransmitted second-fin from server", false, Outcome::fail, "about 1 RTO", "never <again> & \"never\"", 12}};
}

}  // namespace

TEST_CASE("svg ladder: one arrow per wire segment, a cross on the dropped final ACK, state bands") {
  const Trace trace = drop_final_ack_trace();
  const std::string svg = render_svg_ladder(trace);
  CHECK(count(svg, "<g class=\"seg ") == 11);
  CHECK(count(svg, "data-fate=\"dropped\"") == 1);
  CHECK(count(svg, "<g class=\"cross\">") == 1);
  CHECK_THAT(svg, Contains("dropped by fault 1: final-ack"));
  // client: SYN_SENT ESTABLISHED FIN_WAIT1 FIN_WAIT2 TIME_WAIT; server: ESTABLISHED CLOSE_WAIT LAST_ACK
  CHECK(count(svg, "class=\"band ") == 8);
  CHECK(count(svg, "data-state=\"TIME_WAIT\" data-side=\"client\"") == 1);
  CHECK_THAT(svg, Contains(">timewait socket in TIME_WAIT</text>") && Contains(">timer 60.0 s</text>"));
  CHECK(count(svg, "class=\"retx-link\"") == 1);
  CHECK_THAT(svg, Contains("retransmitted +204 ms · RTO 204 ms"));
  CHECK(count(svg, "<title>") >= 11);
}

TEST_CASE("svg ladder: the compact ladder keeps arrows, crosses and bands") {
  const std::string svg = render_svg_ladder(drop_final_ack_trace(), {true});
  CHECK(count(svg, "<g class=\"seg ") == 11);
  CHECK(count(svg, "<g class=\"cross\">") == 1);
  CHECK(count(svg, "class=\"band ") == 8);
}

TEST_CASE("svg ladder: a held segment waits half-way until released") {
  TraceBuilder b;
  b.wire(0, Side::client, "S", 0, 0, 0, {Role::syn});
  auto& held = b.wire(1, Side::server, "S.", 0, 1, 0, {Role::syn_ack}, Fate::held);
  held.released = ms(301);
  const std::string svg = render_svg_ladder(b.trace);
  CHECK(count(svg, "class=\"pause\"") == 1);
  CHECK_THAT(svg, Contains("held 300 ms"));
  CHECK(count(svg, "<g class=\"cross\">") == 0);
}

TEST_CASE("svg ladder: traced states come from StateChange, the timewait socket's from its close and samples") {
  TraceBuilder b;
  b.trace.kernel_source = KernelSource::traced;
  b.trace.counters.client = CounterDeltas{{"TcpExt.TCPTimeWaitOverflow", 0}};
  const auto change = [&](double at, TcpState from, TcpState to) -> StateChange& {
    b.trace.events.emplace_back(StateChange{ms(at), Side::client, ConnectionIndex{0}, 40000, 8080, from, to});
    auto& c = std::get<StateChange>(b.trace.events.back());
    c.facts = StateChange::Facts{};
    return c;
  };
  change(0, TcpState::CLOSE, TcpState::SYN_SENT);
  b.wire(0, Side::client, "S", 0, 0, 0, {Role::syn});
  b.socket(0.5, Side::client, TcpState::ESTABLISHED, 204);  // ignored: the tracepoint is exact
  change(1, TcpState::SYN_SENT, TcpState::ESTABLISHED);
  change(2, TcpState::ESTABLISHED, TcpState::FIN_WAIT1);
  change(2.5, TcpState::FIN_WAIT1, TcpState::FIN_WAIT2);
  change(2.9, TcpState::FIN_WAIT2, TcpState::CLOSE).facts->peer_fin = true;  // handed over in TIME_WAIT
  b.socket(3, Side::client, TcpState::TIME_WAIT, 0, 60000);
  b.socket(10, Side::client, TcpState::CLOSE);
  b.lab(20, "settled");
  const auto bands = state_bands(b.trace);
  REQUIRE(bands.size() == 5);
  CHECK(bands[0].state == TcpState::SYN_SENT);
  CHECK(bands[0].source == StateSource::traced);
  CHECK(bands[4].state == TcpState::TIME_WAIT);
  CHECK(bands[4].form == SocketForm::timewait);
  CHECK(bands[4].source == StateSource::handover);
  CHECK(bands[4].start == ms(2.9));
  CHECK(bands[4].end == ms(10));
  CHECK(bands[4].timer == Millis(60000));
}

TEST_CASE("svg ladder: every connection gets its state bands, each named by its number") {
  TraceBuilder b;
  b.trace.kernel_source = KernelSource::traced;
  b.wire(0, Side::client, "S", 0, 0, 0, {Role::syn});
  b.trace.events.emplace_back(StateChange{ms(0), Side::client, ConnectionIndex{0}, 40000, 8080, TcpState::CLOSE, TcpState::SYN_SENT});
  b.trace.events.emplace_back(
      StateChange{ms(1), Side::client, ConnectionIndex{0}, 40000, 8080, TcpState::SYN_SENT, TcpState::ESTABLISHED});
  b.trace.events.emplace_back(StateChange{ms(2), Side::client, ConnectionIndex{0}, 40000, 8080, TcpState::ESTABLISHED, TcpState::CLOSE});
  b.wire(3, Side::client, "S", 0, 0, 0, {Role::syn}).info.connection = ConnectionIndex{1};
  b.trace.events.emplace_back(StateChange{ms(3), Side::client, ConnectionIndex{1}, 40000, 8080, TcpState::CLOSE, TcpState::SYN_SENT});
  b.trace.events.emplace_back(
      StateChange{ms(4), Side::client, ConnectionIndex{1}, 40000, 8080, TcpState::SYN_SENT, TcpState::ESTABLISHED});
  b.lab(10, "settled");
  const auto bands = state_bands(b.trace);
  REQUIRE(bands.size() == 4);
  CHECK(bands[0].connection == ConnectionIndex{0});
  CHECK(bands[1].end == ms(2));
  CHECK(bands[2].connection == ConnectionIndex{1});
  CHECK(bands[2].state == TcpState::SYN_SENT);
  CHECK(bands[3].end == ms(10));
  const std::string svg = render_svg_ladder(b.trace);
  CHECK(count(svg, "data-connection=\"2\"") == 2);
}

TEST_CASE("time scale: later instants lower, gaps compressed but ordered") {
  const TimeScale scale({ms(0), ms(0.1), ms(200), ms(60000)}, 10, 20, 30);
  CHECK(scale.y(ms(0)) == 10);
  CHECK(scale.y(ms(0.1)) > scale.y(ms(0)) + 19);
  CHECK(scale.y(ms(100)) > scale.y(ms(0.1)));
  CHECK(scale.y(ms(100)) < scale.y(ms(200)));
  CHECK(scale.y(ms(90000)) == scale.bottom());
}

TEST_CASE("html report: text from outside is escaped") {
  TraceBuilder b;
  b.app(0, Side::client, "send <script>alert(1)</script>", "ok & \"done\"");
  auto& w = b.wire(1, Side::client, "S", 0, 0, 0, {Role::syn}, Fate::dropped);
  w.note = "dropped by <b>fault</b>";
  const std::string html = render_html_report(b.trace, some_results(), {"p<1>", "sum & more", "f.toml"});
  CHECK_THAT(html, !Contains("<script>alert"));
  CHECK_THAT(html, !Contains("<b>fault"));
  CHECK_THAT(html, Contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK_THAT(html, Contains("dropped by &lt;b&gt;fault&lt;/b&gt;"));
  CHECK_THAT(html, Contains("never &lt;again&gt; &amp; &quot;never&quot;"));
  CHECK_THAT(html, Contains("<title>p&lt;1&gt;</title>"));
  CHECK(svg::escape("a'b\x01") == "a&apos;b");
}

TEST_CASE("html report: self-contained page with the verdict table") {
  const std::string html = render_html_report(drop_final_ack_trace(), some_results(), {"drop-final-ack", "s", "f"});
  CHECK_THAT(html, Contains("<!DOCTYPE html>"));
  CHECK_THAT(html, !Contains("http://") || Contains("xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK_THAT(html, !Contains("src="));
  CHECK_THAT(html, !Contains("<link"));
  CHECK(count(html, "<tr class=\"check\"") == 2);
  CHECK(count(html, "data-outcome=\"PASS\"") == 1);
  CHECK(count(html, "data-outcome=\"FAIL\"") == 1);
  CHECK_THAT(html, Contains("states sampled every 2 ms"));
}

TEST_CASE("html index: a card per run with its verdict summary and a link") {
  const std::string ladder = render_svg_ladder(drop_final_ack_trace(), {true});
  const std::vector<HtmlIndexEntry> runs{{"drop-final-ack", "drop-final-ack.html", 10, {}, ladder},
                                         {"b&c", "b&c.html", 10, {some_results()[1]}, ""}};
  const std::string html = render_html_index(runs);
  CHECK(count(html, "<div class=\"card\">") == 2);
  CHECK_THAT(html, Contains("href=\"drop-final-ack.html\""));
  CHECK_THAT(html, Contains("href=\"b&amp;c.html\""));
  CHECK_THAT(html, Contains("10 passed"));
  CHECK_THAT(html, Contains("9 passed, 1 failed"));
  CHECK(count(html, "<g class=\"seg ") == 11);
}
