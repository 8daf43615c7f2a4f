// Every state the kernel had, drawn and named by the socket that held it: a request socket's
// SYN_RECV (its child's creation, a SYN-ACK retransmission or a sample), a closed full socket's
// timewait socket in FIN_WAIT_2 and then TIME_WAIT. Each band is present on the kernel's word
// and absent without it; a start or a state from the wire says so.
#include <catch2/catch.hpp>

#include <cerrno>

#include "harness/core/oracle/invariants_close.hpp"
#include "harness/core/report/ladder_model.hpp"
#include "harness/core/report/svg_ladder.hpp"
#include "harness/core/trace/state_history.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "lastack/ladder.hpp"
#include "tests/unit/trace_builder.hpp"
#include "tests/unit/trace_mutations.hpp"

using namespace lastack;
using namespace lastack::testing;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;
using S = TcpState;

namespace {

constexpr Side client = Side::client, server = Side::server;

// A traced run: handshake, the client closes first and its FIN_WAIT_2 is orphaned (its close
// hands over with the peer's FIN not yet accepted), the server's FIN reaches it at 80 ms, a sample
// at 100 ms shows its timewait socket in TIME_WAIT. `child` false: no tracepoint for the server's
// passive open (as if the observer had not seen it).
Trace traced_orphan_close(bool child = true, bool sampled_timewait = true) {
  TraceBuilder b;
  b.trace.kernel_source = KernelSource::traced;
  b.trace.counters.client = CounterDeltas{{"TcpExt.TCPTimeWaitOverflow", 0}};
  b.wire(0.0, client, "S", 0, 0, 0, {Role::syn});
  b.wire(0.1, server, "S.", 0, 1, 0, {Role::syn_ack});
  b.wire(0.2, client, ".", 1, 1, 0, {Role::handshake_ack, Role::ack});
  b.state(0.0, client, S::CLOSE, S::SYN_SENT).cookie = 7;
  b.state(0.15, client, S::SYN_SENT, S::ESTABLISHED).cookie = 7;
  if (child) {
    b.state(0.25, server, S::LISTEN, S::SYN_RECV).cookie = 9;
    b.state(0.26, server, S::SYN_RECV, S::ESTABLISHED).cookie = 9;
  }
  b.wire(2.0, client, "F.", 1, 1, 0, {Role::fin, Role::first_fin});
  b.state(2.0, client, S::ESTABLISHED, S::FIN_WAIT1).cookie = 7;
  b.wire(2.1, server, ".", 1, 2, 0, {Role::ack, Role::first_fin_ack});
  b.state(2.15, client, S::FIN_WAIT1, S::FIN_WAIT2).cookie = 7;
  StateChange& close = b.state(2.2, client, S::FIN_WAIT2, S::CLOSE);
  close.cookie = 7;
  close.facts = StateChange::Facts{0, false, true};
  SocketEvent& fw2 = b.socket(10.0, client, S::FIN_WAIT2, 0, 60000);
  fw2.timer = SocketTimer::time_wait;
  fw2.cookie = 7;
  b.wire(80.0, server, "F.", 1, 2, 0, {Role::fin, Role::second_fin});
  b.wire(80.1, client, ".", 2, 2, 0, {Role::ack, Role::final_ack});
  if (sampled_timewait) b.socket(100.0, client, S::TIME_WAIT, 0, 59980).cookie = 7;
  sort_by_time(b.trace);
  attribute_connections(b.trace);
  return b.trace;
}

std::vector<StateBand> bands_of(const Trace& t, Side side) {
  std::vector<StateBand> out;
  for (const StateBand& b : state_bands(t))
    if (b.side == side) out.push_back(b);
  return out;
}

const StateBand* band_with(const std::vector<StateBand>& bands, S state, SocketForm form) {
  for (const StateBand& b : bands)
    if (b.state == state && b.form == form) return &b;
  return nullptr;
}

std::string legal_states_saw(const Trace& t) { return check_legal_states(t).saw; }

// The ladder's first line holding `needle`.
std::string line_with(const std::string& text, const std::string& needle) {
  for (std::size_t from = 0; from < text.size();) {
    const std::size_t end = text.find('\n', from);
    const std::string line = text.substr(from, end - from);
    if (line.find(needle) != std::string::npos) return line;
    if (end == std::string::npos) break;
    from = end + 1;
  }
  return "";
}

}  // namespace

TEST_CASE("a passive open's child draws its request socket in SYN_RECV, begun at the SYN's arrival on the wire") {
  const Trace t = traced_orphan_close();
  const auto server_bands = bands_of(t, server);
  const StateBand* request = band_with(server_bands, S::SYN_RECV, SocketForm::request);
  REQUIRE(request != nullptr);
  CHECK(request->source == StateSource::traced);  // its child's LISTEN -> SYN_RECV, the kernel's word
  CHECK(request->from_wire);
  CHECK(request->start == ms(0.0));        // the SYN reached the server
  CHECK(request->evidence_at == ms(0.25));  // the child's creation
  CHECK(request->end == ms(0.25));
  CHECK(request->label() == "request socket in SYN_RECV");
  // Then the child, a full socket, for its own short SYN_RECV.
  const StateBand* child = band_with(server_bands, S::SYN_RECV, SocketForm::full);
  REQUIRE(child != nullptr);
  CHECK(child->start == ms(0.25));
  CHECK(child->end == ms(0.26));
}

TEST_CASE("no request socket band without the kernel's word for one: the wire's SYN alone draws nothing") {
  const Trace t = traced_orphan_close(false);
  CHECK(band_with(bands_of(t, server), S::SYN_RECV, SocketForm::request) == nullptr);
  CHECK(render_ladder(t).find("request socket") == std::string::npos);
}

TEST_CASE("a SYN-ACK retransmission is the request socket's kernel evidence before its child") {
  TraceBuilder b;
  b.trace = traced_orphan_close();
  b.retransmit(0.12, server, 0, RetransmitCause::synack, S::SYN_RECV).cookie = 9;
  Trace& t = b.trace;
  sort_by_time(t);
  attribute_connections(t);
  const auto server_bands = bands_of(t, server);
  const StateBand* request = band_with(server_bands, S::SYN_RECV, SocketForm::request);
  REQUIRE(request != nullptr);
  CHECK(request->evidence_at == ms(0.12));
  CHECK(request->start == ms(0.0));
  CHECK(request->end == ms(0.25));
}

TEST_CASE("an orphaned FIN_WAIT_2 is drawn as its timewait socket, with its timer, then TIME_WAIT on a sample") {
  const Trace t = traced_orphan_close();
  const auto client_bands = bands_of(t, client);
  const StateBand* full = band_with(client_bands, S::FIN_WAIT2, SocketForm::full);
  REQUIRE(full != nullptr);
  CHECK(full->source == StateSource::traced);
  const StateBand* fw2 = band_with(client_bands, S::FIN_WAIT2, SocketForm::timewait);
  REQUIRE(fw2 != nullptr);
  CHECK(fw2->source == StateSource::handover);
  CHECK(fw2->start == ms(2.2));
  CHECK(fw2->end == ms(80.0));  // the FIN's arrival, where TIME_WAIT's band starts
  CHECK(fw2->label() == "timewait socket in FIN_WAIT_2 · timer 60.0 s");
  const StateBand* tw = band_with(client_bands, S::TIME_WAIT, SocketForm::timewait);
  REQUIRE(tw != nullptr);
  CHECK(tw->source == StateSource::sampled);
  CHECK(tw->from_wire);
  CHECK(tw->start == ms(80.0));
  CHECK(tw->evidence_at == ms(100.0));
  // One TIME_WAIT band, not an inferred one and a sampled one.
  std::size_t timewaits = 0;
  for (const StateBand& b : client_bands) timewaits += b.state == S::TIME_WAIT;
  CHECK(timewaits == 1);
}

TEST_CASE("a TIME_WAIT no sample showed is drawn as an inference, and said to be one") {
  const Trace t = traced_orphan_close(true, false);
  const auto client_bands = bands_of(t, client);
  const StateBand* tw = band_with(client_bands, S::TIME_WAIT, SocketForm::timewait);
  REQUIRE(tw != nullptr);
  CHECK(tw->source == StateSource::inferred);
  CHECK_THAT(render_ladder(t), Contains("timewait socket in TIME_WAIT (inferred from the wire)"));
  CHECK_THAT(render_svg_ladder(t), Contains("band st-TIME_WAIT form-timewait inferred"));
}

TEST_CASE("a close the kernel ended with an error draws no timewait socket") {
  Trace t = traced_orphan_close(true, false);
  for (TraceEvent& ev : t.events)
    if (auto* c = std::get_if<StateChange>(&ev); c && c->to == S::CLOSE && c->side == client) c->facts->error = ETIMEDOUT;
  // The sample of a timewait socket would contradict it: leave it out.
  std::erase_if(t.events, [](const TraceEvent& ev) {
    const auto* s = std::get_if<SocketEvent>(&ev);
    return s && s->side == client;
  });
  CHECK(band_with(bands_of(t, client), S::FIN_WAIT2, SocketForm::timewait) == nullptr);
  CHECK(band_with(bands_of(t, client), S::TIME_WAIT, SocketForm::timewait) == nullptr);
}

TEST_CASE("legal-states, the ladder and the page name each state by its socket, in the same words") {
  const Trace t = traced_orphan_close();
  const std::string saw = legal_states_saw(t);
  CHECK_THAT(saw, Contains("request socket in SYN_RECV (traced; from the SYN's arrival on the wire) → SYN_RECV → "
                           "ESTABLISHED (traced)"));
  CHECK_THAT(saw, Contains("SYN_SENT → ESTABLISHED → FIN_WAIT_1 → FIN_WAIT_2 (traced) → timewait socket in "
                           "FIN_WAIT_2 (handed over at its traced close) → timewait socket in TIME_WAIT (sampled; "
                           "from the FIN's arrival on the wire)"));
  const std::string ladder = render_ladder(t);
  CHECK_THAT(line_with(ladder, "request socket"),
             StartsWith("     0.0 ms  ") && EndsWith(" request socket in SYN_RECV (from the SYN's arrival, wire)"));
  CHECK(line_with(ladder, "timewait socket in FIN_WAIT_2") == "     2.2 ms timewait socket in FIN_WAIT_2 (timer 60.0 s)");
  CHECK(line_with(ladder, "TIME_WAIT (from") == "    80.0 ms timewait socket in TIME_WAIT (from the FIN's arrival, wire)");
  CHECK(line_with(ladder, "TIME_WAIT (timer") == "   100.0 ms timewait socket in TIME_WAIT (timer 60.0 s, sampled)");
  const std::string svg = render_svg_ladder(t);
  CHECK_THAT(svg, Contains("data-label=\"request socket in SYN_RECV\""));
  CHECK_THAT(svg, Contains("data-label=\"timewait socket in FIN_WAIT_2\""));
  CHECK_THAT(svg, Contains("data-label=\"timewait socket in TIME_WAIT\""));
  CHECK_THAT(svg, Contains("class=\"band-wire\""));
}

TEST_CASE("the recorded drop-final-ack run: the server's request socket and the client's timewait socket in FIN_WAIT_2, "
          "each gone from a copy without its kernel evidence") {
  const Trace recorded = read_fixture("drop-final-ack").trace;
  const auto server_bands = bands_of(recorded, server), client_bands = bands_of(recorded, client);
  const StateBand* request = band_with(server_bands, S::SYN_RECV, SocketForm::request);
  REQUIRE(request != nullptr);
  CHECK(request->source == StateSource::traced);
  CHECK(request->from_wire);
  CHECK(request->start < request->evidence_at);
  const StateBand* fin_wait_2 = band_with(client_bands, S::FIN_WAIT2, SocketForm::timewait);
  REQUIRE(fin_wait_2 != nullptr);
  CHECK(fin_wait_2->source == StateSource::handover);
  CHECK(fin_wait_2->timer == Millis(60000));
  const StateBand* time_wait = band_with(client_bands, S::TIME_WAIT, SocketForm::timewait);
  REQUIRE(time_wait != nullptr);
  CHECK(time_wait->source == StateSource::sampled);
  CHECK(fin_wait_2->end == time_wait->start);

  // Without the child's creation (LISTEN -> SYN_RECV), nothing the kernel said shows the request socket.
  Trace no_child = recorded;
  std::erase_if(no_child.events, [](const TraceEvent& ev) {
    const auto* c = std::get_if<StateChange>(&ev);
    return c && c->side == server && c->from == S::LISTEN && c->to == S::SYN_RECV;
  });
  CHECK(band_with(bands_of(no_child, server), S::SYN_RECV, SocketForm::request) == nullptr);
  // Without the client's close (FIN_WAIT_2 -> CLOSE) and its timewait socket's samples, no timewait band.
  Trace no_close = recorded;
  std::erase_if(no_close.events, [](const TraceEvent& ev) {
    const auto* c = std::get_if<StateChange>(&ev);
    const auto* s = std::get_if<SocketEvent>(&ev);
    return (c && c->side == client && c->to == S::CLOSE) || (s && s->side == client);
  });
  const auto cut = bands_of(no_close, client);
  CHECK(band_with(cut, S::FIN_WAIT2, SocketForm::timewait) == nullptr);
  CHECK(band_with(cut, S::TIME_WAIT, SocketForm::timewait) == nullptr);
  CHECK(band_with(cut, S::FIN_WAIT2, SocketForm::full) != nullptr);  // the full socket's, traced, still there
}
