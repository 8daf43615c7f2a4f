// Reports: the ladder diagram, the verdict table and the JSON Lines trace.
#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lastack/report.hpp"
#include "harness/core/base/text_columns.hpp"
#include "tests/unit/trace_builder.hpp"
#include "lastack/trace_jsonl.hpp"
#include "harness/core/oracle/checks.hpp"

using namespace lastack;
using namespace lastack::testing;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;
using enum Role;

namespace {

constexpr Side client = Side::client, server = Side::server;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The one line containing `needle`.
std::string line_with(const std::string& text, const std::string& needle) {
  std::string found;
  for (const auto& line : lines_of(text)) {
    if (line.find(needle) == std::string::npos) continue;
    REQUIRE(found.empty());  // exactly one line
    found = line;
  }
  REQUIRE_FALSE(found.empty());
  return found;
}

// A ladder line without its time column.
std::string lane_of(const std::string& line) { return line.substr(12); }

CheckResult result(std::string name, bool builtin, bool passed, std::size_t line = 0) {
  CheckResult r;
  r.name = std::move(name);
  r.builtin = builtin;
  r.outcome = outcome_of(passed);
  r.expected = "the expected thing";
  r.saw = "the thing seen";
  r.line = line;
  return r;
}

}  // namespace

// ---- ladder ----

TEST_CASE("ladder has a header and fits the requested width") {
  const std::string ladder = render_ladder(drop_final_ack_trace());
  const auto lines = lines_of(ladder);
  REQUIRE(lines.size() > 10);
  CHECK_THAT(lines[0], Contains("time"));
  CHECK_THAT(lines[0], Contains("client"));
  CHECK_THAT(lines[0], EndsWith("server"));
  for (const auto& line : lines) {
    INFO(line);
    CHECK(display_columns(line) <= 78);
  }
  const std::string wide = render_ladder(drop_final_ack_trace(), {false, 100});
  CHECK(display_columns(lines_of(wide)[0]) == 100);
}

TEST_CASE("ladder's footnote says what was queued: from the whole wire every segment is drawn") {
  Trace t = drop_final_ack_trace();
  t.every_segment = false;
  CHECK_THAT(render_ladder(t), Contains("so they are not drawn"));
  t.whole_wire = true;
  const std::string ladder = render_ladder(t);
  CHECK_THAT(ladder, !Contains("not drawn"));
  CHECK_THAT(ladder, Contains("not queued: they crossed the wire untouched"));
}

TEST_CASE("ladder draws client-to-server arrows left to right with relative numbers") {
  const std::string ladder = render_ladder(drop_final_ack_trace());
  const std::string syn = line_with(ladder, "S seq 0");
  CHECK_THAT(syn, StartsWith("     0.0 ms "));
  CHECK_THAT(lane_of(syn), StartsWith("── S seq 0 ─"));
  CHECK_THAT(syn, EndsWith("▶"));
  const std::string data = line_with(ladder, "len 1000");
  CHECK_THAT(lane_of(data), StartsWith("── P. seq 1 ack 1 len 1000 ─"));
}

TEST_CASE("ladder draws server-to-client arrows right to left with close roles") {
  const std::string ladder = render_ladder(drop_final_ack_trace());
  const std::string fin = line_with(ladder, "[second-fin] ──");
  CHECK_THAT(lane_of(fin), StartsWith("◀─"));
  CHECK_THAT(fin, EndsWith("F. seq 1 ack 1002 [second-fin] ──"));
}

TEST_CASE("ladder ends a dropped segment mid-way with an X and the drop note") {
  const std::string ladder = render_ladder(drop_final_ack_trace());
  const std::string drop = line_with(ladder, "dropped by fault 1");
  CHECK_THAT(drop, Contains("── . seq 1002 ack 2 [final-ack] ──✗  dropped by fault 1: final-ack"));
  CHECK_THAT(drop, !Contains("▶"));
}

TEST_CASE("ladder ends a dropped server segment mid-way too, note on the left") {
  TraceBuilder b;
  b.wire(10, server, "F.", 1, 2, 0, {fin, second_fin}, Fate::dropped).note = "dropped by fault 2";
  const std::string drop = line_with(render_ladder(b.trace), "dropped by fault 2");
  CHECK_THAT(drop, Contains("dropped by fault 2  ✗─"));
  CHECK_THAT(drop, EndsWith("F. seq 1 ack 2 [second-fin] ──"));
  CHECK_THAT(drop, !Contains("◀"));
}

TEST_CASE("ladder gives a retransmission its gap from the previous send") {
  const std::string ladder = render_ladder(drop_final_ack_trace());
  const std::string again = line_with(ladder, "retransmission");
  CHECK_THAT(again, StartsWith("   256.3 ms ◀"));
  CHECK_THAT(again, Contains("F. seq 1 ack 1002 [second-fin] (retransmission, +204 ms)"));
}

TEST_CASE("ladder writes states under their side's column") {
  const std::string ladder = render_ladder(drop_final_ack_trace());
  const std::string tw = line_with(ladder, "TIME_WAIT (timer 60.0 s)");
  CHECK(lane_of(tw) == "timewait socket in TIME_WAIT (timer 60.0 s)");
  const std::string restarted = line_with(ladder, "restarted");
  CHECK(lane_of(restarted) == "timewait socket in TIME_WAIT: timer restarted");
  const std::string last_ack = line_with(ladder, "LAST_ACK");
  CHECK_THAT(last_ack, EndsWith(" LAST_ACK"));
  CHECK(display_columns(last_ack) == 78);
  CHECK_THAT(line_with(ladder, "server: recv-until-eof"),
             EndsWith("server: recv-until-eof → eof, 1000 bytes"));
  CHECK(lane_of(line_with(ladder, "client: close")) == "client: close → ok");
  CHECK_THAT(line_with(ladder, "settled"), Contains("· settled ·"));
}

TEST_CASE("ladder draws a delayed segment when it arrived") {
  TraceBuilder b;
  b.wire(10, client, "P.", 1, 1, 100, {data}, Fate::delayed).released = ms(310);
  b.wire(20, server, "P.", 1, 1, 50, {data});
  const auto lines = lines_of(render_ladder(b.trace));
  REQUIRE(lines.size() == 4);
  CHECK(lines[3] == "(states sampled every 2 ms; short states may be missed)");
  CHECK_THAT(lines[1], Contains("P. seq 1 ack 1 len 50"));
  CHECK_THAT(lines[2], StartsWith("   310.0 ms ── P. seq 1 ack 1 len 100 (delayed 300 ms)"));
}

TEST_CASE("ladder numbers connections and groups them when there are several") {
  TraceBuilder b;
  b.wire(1, client, "S", 0, 0, 0, {syn});
  auto& second = b.wire(2, client, "S", 0, 0, 0, {syn});
  second.info.connection = ConnectionIndex{1};
  second.segment.sport = 40001;
  b.wire(3, client, ".", 1, 1, 0, {ack});
  b.trace.kernel_source = KernelSource::traced;  // no sampling note
  const auto lines = lines_of(render_ladder(b.trace));
  REQUIRE(lines.size() == 6);
  CHECK(lines[1] == "── connection 1: 198.18.1.2:40000 → 198.18.2.2:8080");
  CHECK_THAT(lines[2], Contains("── #1 S seq 0"));
  CHECK_THAT(lines[3], Contains("── #1 . seq 1"));
  CHECK(lines[4] == "── connection 2: 198.18.1.2:40001 → 198.18.2.2:8080");
  CHECK_THAT(lines[5], Contains("── #2 S seq 0"));
}

TEST_CASE("ladder colours drops red and retransmissions yellow only when asked") {
  const std::string colored = render_ladder(drop_final_ack_trace(), {true, 78});
  CHECK_THAT(line_with(colored, "dropped by fault 1"), Contains("\x1b[31m"));
  CHECK_THAT(line_with(colored, "retransmission"), Contains("\x1b[33m"));
  CHECK_THAT(render_ladder(drop_final_ack_trace()), !Contains("\x1b["));
}

// ---- verdicts ----

TEST_CASE("verdicts list invariants first, then policy checks with their line") {
  const std::string table =
      render_verdicts({result("state client reaches TIME_WAIT", false, true, 12),
                       result("legal-states", true, true)});
  const auto lines = lines_of(table);
  REQUIRE(lines.size() == 3);
  CHECK_THAT(lines[0], StartsWith("PASS  invariant  legal-states"));
  CHECK_THAT(lines[0], EndsWith("the thing seen"));
  CHECK_THAT(lines[1], StartsWith("PASS  policy:12  state client reaches TIME_WAIT"));
  CHECK(lines[2] == "2 checks: 2 passed, 0 failed, 0 not checked");
}

TEST_CASE("verdicts show expected and saw for a failure and count failures") {
  const std::string table = render_verdicts({result("legal-states", true, true),
                                             result("reset from client", false, false, 30),
                                             result("bytes-delivered", true, true)});
  const std::string fail = line_with(table, "FAIL");
  CHECK_THAT(fail, StartsWith("FAIL  policy:30  reset from client"));
  CHECK_THAT(fail, EndsWith("expected: the expected thing; saw: the thing seen"));
  CHECK_THAT(table, EndsWith("3 checks: 2 passed, 1 failed, 0 not checked\n"));
}

TEST_CASE("verdicts wrap a long detail under its own column within 100 columns") {
  CheckResult r = result("legal-states", true, true);
  std::string saw;
  for (int i = 0; i < 40; ++i) saw += fmt::format("state{} → ", i);
  r.saw = saw + "end";
  const auto lines = lines_of(render_verdicts({r}));
  REQUIRE(lines.size() > 3);  // rows, then the summary
  const std::size_t indent = lines[0].find("state0");
  std::string rejoined = lines[0].substr(indent);
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    INFO(lines[i]);
    CHECK(display_columns(lines[i]) <= 100);
    if (i == 0) continue;
    CHECK(lines[i].substr(0, indent) == std::string(indent, ' '));
    rejoined += " " + lines[i].substr(indent);
  }
  CHECK(rejoined == r.saw);
}

TEST_CASE("verdicts start the detail of a very long name on the next line") {
  const std::string name = "state server reaches LAST_ACK, ends in CLOSED, never TIME_WAIT";
  const auto lines = lines_of(render_verdicts({result(name, false, true, 7)}));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "PASS  policy:7   " + name);
  CHECK_THAT(lines[1], EndsWith(" the thing seen"));
  CHECK(lines[1].find_first_not_of(' ') == 4 + 2 + 10 + 1 + 32 + 2);
}

TEST_CASE("wrap_columns breaks at spaces and keeps long words whole") {
  CHECK(wrap_columns("aa bb cc", 5) == std::vector<std::string>{"aa bb", "cc"});
  CHECK(wrap_columns("→→→ ab", 6) == std::vector<std::string>{"→→→ ab"});
  CHECK(wrap_columns("abcdefgh ij", 4) == std::vector<std::string>{"abcdefgh", "ij"});
  CHECK(wrap_columns("", 10) == std::vector<std::string>{""});
  CHECK(wrap_columns("gap 204 ms; rto 200 ms)", 8) ==
        std::vector<std::string>{"gap", "204 ms;", "rto", "200 ms)"});
}

TEST_CASE("verdicts colour PASS and FAIL only when asked") {
  const std::vector<CheckResult> results{result("a", true, true), result("b", false, false, 3)};
  const std::string colored = render_verdicts(results, true);
  CHECK_THAT(colored, Contains("\x1b[32mPASS\x1b[0m"));
  CHECK_THAT(colored, Contains("\x1b[31mFAIL\x1b[0m"));
  CHECK_THAT(render_verdicts(results), !Contains("\x1b["));
}

// ---- JSON Lines ----

namespace {

std::vector<nlohmann::json> jsonl_of(const Trace& trace, const std::vector<CheckResult>& results) {
  std::ostringstream out;
  write_jsonl(trace, results, out);
  std::vector<nlohmann::json> parsed;
  for (const auto& line : lines_of(out.str())) parsed.push_back(nlohmann::json::parse(line));
  return parsed;
}

}  // namespace

TEST_CASE("jsonl has one line for the run, one per event, one per check") {
  Trace t = drop_final_ack_trace();
  t.kernel = "6.1.0";
  t.ipv6 = true;
  t.queue_drops = 2;
  t.sysctls.client["net.ipv4.tcp_fin_timeout"] = "5";
  const auto results = run_oracle(t, Policy{});
  const auto lines = jsonl_of(t, results);
  REQUIRE(lines.size() == 1 + t.events.size() + results.size());
  const auto& run = lines.front();
  CHECK(run["type"] == "run");
  CHECK(run["policy"] == "test-policy");
  CHECK(run["ipv6"] == true);
  CHECK(run["kernel"] == "6.1.0");
  CHECK(run["queue_drops"] == 2);
  CHECK(run["sysctls"]["client"]["net.ipv4.tcp_fin_timeout"] == "5");
  CHECK(run["sysctls"]["server"].empty());
  CHECK(lines.back()["type"] == "check");
}

TEST_CASE("jsonl's header carries every setting of the run the oracle reads") {
  Trace t;
  t.policy = "p";
  t.kernel_source = KernelSource::traced;
  t.timewait_overflow.client = 3;
  t.wall_start = std::chrono::sys_time<std::chrono::nanoseconds>(std::chrono::nanoseconds(1'700'000'000'123'456'789));
  t.client_addresses = {v4(198, 18, 1, 2)};
  t.every_segment = false;
  const auto run = jsonl_of(t, {}).front();
  CHECK(run["format"] == jsonl_format);
  CHECK(run["every_segment"] == false);
  CHECK(run["kernel_source"] == "traced");
  CHECK(run["timewait_overflow"] == nlohmann::json{{"client", 3}, {"server", nullptr}});
  CHECK(run["wall_start_ns"] == 1'700'000'000'123'456'789);
  CHECK(run["client_addresses"] == nlohmann::json::array({"198.18.1.2"}));
}

TEST_CASE("jsonl wire lines carry the captured bytes in lowercase hex, exact times and lab kinds") {
  TraceBuilder b;
  WireEvent& w = b.wire(1.5, client, "S", 0, 0, 0, {syn});
  w.at += std::chrono::nanoseconds(7);
  w.bytes = {0x45, 0x00, 0xab, 0xCD};
  w.wire_length = 60;
  b.trace.events.emplace_back(LabEvent{ms(2), "destroyed TIME_WAIT on client: 1 socket (SOCK_DESTROY)",
                                       LabEventKind::timewait_destroyed, client, 1});
  const auto lines = jsonl_of(b.trace, {});
  CHECK(lines[1]["bytes"] == "4500abcd");
  CHECK(lines[1]["wire_length"] == 60);
  CHECK(lines[1]["t_ns"] == 1'500'007);
  CHECK(lines[1]["t_us"] == 1500);
  CHECK(lines[2]["kind"] == "timewait-destroyed");
  CHECK(lines[2]["side"] == "client");
  CHECK(lines[2]["count"] == 1);
}

TEST_CASE("jsonl wire lines carry raw and relative numbers, roles, fate and fault") {
  const auto lines = jsonl_of(drop_final_ack_trace(), {});
  const nlohmann::json* dropped = nullptr;
  for (const auto& j : lines) {
    if (j["type"] == "wire" && j["fate"] == "dropped") dropped = &j;
  }
  REQUIRE(dropped);
  const auto& w = *dropped;
  CHECK(w["t_us"] == 52400);
  CHECK(w["released_us"].is_null());
  CHECK(w["from"] == "client");
  CHECK(w["connection"] == 0);
  CHECK(w["flags"] == ".");
  CHECK(w["seq"] == client_isn + 1002);
  CHECK(w["rel_seq"] == 1002);
  CHECK(w["ack"] == static_cast<std::uint32_t>(server_isn + 2));
  CHECK(w["rel_ack"] == 2);
  CHECK(w["len"] == 0);
  CHECK(w["sport"] == 40000);
  CHECK(w["dport"] == 8080);
  CHECK(w["src"] == "198.18.1.2");
  CHECK(w["roles"] == nlohmann::json::array({"ack", "final-ack"}));
  CHECK(w["fault"] == 0);
  CHECK(w["note"] == "dropped by fault 1: final-ack");
  CHECK(w["options"]["mss"].is_null());
}

TEST_CASE("jsonl writes delayed release times, socket samples, app steps and lab notes") {
  TraceBuilder b;
  b.wire(10, client, "P.", 1, 1, 100, {data}, Fate::delayed).released = ms(310);
  b.socket(20, client, TcpState::TIME_WAIT, 0, 60000);
  b.socket(21, server, TcpState::LAST_ACK, 204).retransmits = 2;
  b.app(30, server, "recv 100", "ok", 100);
  b.lab(40, "destroyed TIME_WAIT on client");
  const auto lines = jsonl_of(b.trace, {});
  REQUIRE(lines.size() == 6);
  CHECK(lines[1]["released_us"] == 310000);
  CHECK(lines[1]["fate"] == "delayed");
  CHECK(lines[2]["type"] == "socket");
  CHECK(lines[2]["state"] == "TIME_WAIT");
  CHECK(lines[2]["timer"] == "time_wait");
  CHECK(lines[2]["expires_ms"] == 60000);
  CHECK(lines[2]["connection"].is_null());
  CHECK(lines[3]["rto_us"] == 204000);
  CHECK(lines[3]["retransmits"] == 2);
  CHECK(lines[4] == nlohmann::json{{"type", "app"},
                                   {"t_us", 30000},
                                   {"t_ns", 30000000},
                                   {"side", "server"},
                                   {"step", "recv 100"},
                                   {"outcome", "ok"},
                                   {"bytes", 100},
                                   {"kind", "recv"},
                                   {"result", "ok"},
                                   {"errno", 0},
                                   {"verified", true},
                                   {"corrupted", nullptr},
                                   {"corrupted_from", nullptr}});
  CHECK(lines[5] == nlohmann::json{{"type", "lab"},
                                   {"t_us", 40000},
                                   {"t_ns", 40000000},
                                   {"what", "destroyed TIME_WAIT on client"},
                                   {"kind", "note"},
                                   {"side", nullptr},
                                   {"count", 0}});
}

TEST_CASE("jsonl check lines carry every field of the verdict") {
  const auto lines = jsonl_of(Trace{}, {result("reset from client", false, false, 30)});
  REQUIRE(lines.size() == 2);
  CHECK(lines[1] == nlohmann::json{{"type", "check"},
                                   {"name", "reset from client"},
                                   {"outcome", "fail"},
                                   {"passed", false},
                                   {"expected", "the expected thing"},
                                   {"saw", "the thing seen"},
                                   {"line", 30},
                                   {"builtin", false}});
}

TEST_CASE("jsonl never fails on text that is not UTF-8") {
  TraceBuilder b;
  b.lab(1, std::string("bad \xff byte"));
  const auto lines = jsonl_of(b.trace, {});
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[1]["what"].get<std::string>(), StartsWith("bad "));
}

// ---- ladder with traced kernel events ----

namespace {

StateChange change(double at_ms, Side side, TcpState from, TcpState to) {
  StateChange c;
  c.at = ms(at_ms);
  c.side = side;
  c.local_port = port_of[side];
  c.remote_port = port_of[peer_of(side)];
  c.from = from;
  c.to = to;
  return c;
}

// drop_final_ack_trace as the BPF observer saw it: exact states, the listener's own changes,
// the client's full socket closing when its timewait socket takes over, the RTO that resent
// the server's FIN; sock_diag still samples (every full-socket state again, and TIME_WAIT).
Trace traced_drop_final_ack_trace() {
  Trace t = drop_final_ack_trace();
  t.kernel_source = KernelSource::traced;
  using S = TcpState;
  StateChange listen = change(0.0, server, S::CLOSE, S::LISTEN);
  listen.remote_port = 0;
  StateChange unlisten = change(0.35, server, S::LISTEN, S::CLOSE);
  unlisten.remote_port = 0;
  for (const StateChange& c :
       {listen, change(0.0, client, S::CLOSE, S::SYN_SENT), change(0.15, client, S::SYN_SENT, S::ESTABLISHED),
        change(0.25, server, S::LISTEN, S::SYN_RECV), change(0.25, server, S::SYN_RECV, S::ESTABLISHED),
        unlisten, change(1.95, client, S::ESTABLISHED, S::FIN_WAIT1),
        change(2.05, server, S::ESTABLISHED, S::CLOSE_WAIT), change(2.15, client, S::FIN_WAIT1, S::FIN_WAIT2),
        change(52.25, server, S::CLOSE_WAIT, S::LAST_ACK), change(52.35, client, S::FIN_WAIT2, S::CLOSE),
        change(256.45, server, S::LAST_ACK, S::CLOSE)})
    t.events.emplace_back(c);
  KernelRetransmit rto;
  rto.at = ms(256.2);
  rto.side = server;
  rto.local_port = 8080;
  rto.remote_port = 40000;
  rto.state = S::LAST_ACK;
  rto.seq = SeqNum(server_isn + 1);
  rto.cause = RetransmitCause::rto;
  rto.rto = std::chrono::milliseconds(204);
  t.events.emplace_back(rto);
  std::stable_sort(t.events.begin(), t.events.end(),
                   [](const TraceEvent& a, const TraceEvent& b) { return event_time(a) < event_time(b); });
  return t;
}

std::size_t count_lines_with(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (const auto& line : lines_of(text)) n += line.find(needle) != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("ladder draws traced states in their side's column, each once") {
  const std::string ladder = render_ladder(traced_drop_final_ack_trace());
  CHECK(lane_of(line_with(ladder, "SYN_SENT")) == "SYN_SENT");
  // The request socket from the SYN's arrival (the wire) to its child's creation (traced), then the child.
  CHECK_THAT(line_with(ladder, "request socket"),
             StartsWith("     0.0 ms ") && EndsWith(" request socket in SYN_RECV (from the SYN's arrival, wire)"));
  CHECK(count_lines_with(ladder, "SYN_RECV") == 2);
  CHECK_THAT(line_with(ladder, "LAST_ACK"), EndsWith(" LAST_ACK"));
  CHECK(display_columns(line_with(ladder, "LAST_ACK")) == 78);
  CHECK(lane_of(line_with(ladder, "FIN_WAIT_1")) == "FIN_WAIT_1");
  CHECK_THAT(line_with(ladder, "FIN_WAIT_1"), StartsWith("     1.9 ms"));  // traced, not sampled at 2.0
  // Sampled full-socket states are not drawn again; ESTABLISHED once per side.
  CHECK(count_lines_with(ladder, "ESTABLISHED") == 2);
  CHECK(count_lines_with(ladder, "CLOSE_WAIT") == 1);
}

TEST_CASE("ladder draws no listener states and no CLOSE of a socket that went on in TIME_WAIT") {
  const std::string ladder = render_ladder(traced_drop_final_ack_trace());
  CHECK(count_lines_with(ladder, "LISTEN") == 0);
  // The one CLOSED line is the server's; the client's full socket became a timewait socket.
  CHECK_THAT(line_with(ladder, "CLOSED"), EndsWith(" CLOSED"));
  CHECK(lane_of(line_with(ladder, "TIME_WAIT (timer")) == "timewait socket in TIME_WAIT (timer 60.0 s)");
  CHECK(lane_of(line_with(ladder, "restarted")) == "timewait socket in TIME_WAIT: timer restarted");
}

TEST_CASE("ladder names the kernel's retransmission cause on the resent segment") {
  const std::string ladder = render_ladder(traced_drop_final_ack_trace());
  CHECK_THAT(line_with(ladder, "retransmission"),
             Contains("F. seq 1 ack 1002 [second-fin] (retransmission, +204 ms, RTO)"));
  CHECK(count_lines_with(ladder, "retransmits in") == 0);  // shown on the arrow, not again
}

TEST_CASE("ladder writes a kernel retransmission no segment shows at its side, with its cause") {
  Trace t = traced_drop_final_ack_trace();
  KernelRetransmit tlp;
  tlp.at = ms(100.0);
  tlp.side = client;
  tlp.state = TcpState::FIN_WAIT1;
  tlp.seq = SeqNum(client_isn + 5000);  // no such segment on the wire
  tlp.cause = RetransmitCause::loss_probe;
  t.events.emplace_back(tlp);
  CHECK(lane_of(line_with(render_ladder(t), "retransmits in")) == "retransmits in FIN_WAIT_1 (tail-loss probe)");
}

TEST_CASE("ladder names the timewait socket that continues a traced FIN_WAIT_2, with its timer, and no CLOSED") {
  TraceBuilder b;
  b.trace.kernel_source = KernelSource::traced;
  b.trace.counters.client = CounterDeltas{{"TcpExt.TCPTimeWaitOverflow", 0}};
  b.state(1.0, client, TcpState::FIN_WAIT1, TcpState::FIN_WAIT2);
  b.state(1.1, client, TcpState::FIN_WAIT2, TcpState::CLOSE).facts->orphan = true;  // no peer FIN yet
  b.socket(2.0, client, TcpState::FIN_WAIT2, 0, 60000).timer = SocketTimer::time_wait;
  const std::string ladder = render_ladder(b.trace);
  CHECK(lane_of(line_with(ladder, "timewait socket")) == "timewait socket in FIN_WAIT_2 (timer 60.0 s)");
  CHECK(count_lines_with(ladder, "FIN_WAIT_2") == 2);
  CHECK(count_lines_with(ladder, "CLOSED") == 0);
}

TEST_CASE("ladder writes an accepted RST at the side that accepted it") {
  Trace t = traced_drop_final_ack_trace();
  KernelReset r;
  r.at = ms(300.0);
  r.side = server;
  r.state = TcpState::ESTABLISHED;
  r.sent = false;
  t.events.emplace_back(r);
  CHECK_THAT(line_with(render_ladder(t), "RST accepted"), EndsWith(" RST accepted in ESTABLISHED"));
}
