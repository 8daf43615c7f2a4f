// The [link] and resets under `lastack wrap`, and lastack's own segments across a link: a client
// and server on 127.0.0.1 see a 50 ms link both ways in the kernel's tcpi_rtt; a connection cut
// after the client's 3rd data segment is reset at both ends (the kernel's tcp_receive_reset) and
// the client program sees ECONNRESET; a reset's RSTs cross a link behind what their senders sent;
// a replay of a --link run judges under the link the trace recorded; the link's duplicate, which
// wrap does not carry, is refused in one line.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lastack_process.hpp"
#include "trace_lines.hpp"

using lastack::test::run_lastack;
using lastack::test::TempDir;
using Catch::Matchers::Contains;
using Json = nlohmann::json;

namespace {

// A policy whose scenario is a bare connect and close (wrap runs the user's command instead).
std::filesystem::path wrap_policy(const TempDir& dir, const std::string& name, const std::string& body) {
  return lastack::test::write_policy(
      dir, name, "[scenario]\nclient = [\"connect\", \"close\"]\nserver = [\"accept\", \"close\"]\n" + body);
}

std::size_t harness_errors(const std::vector<Json>& trace) {
  return static_cast<std::size_t>(std::count_if(trace.begin(), trace.end(), [](const Json& j) {
    return j["type"] == "lab" && j["kind"] == "harness-error";
  }));
}

// A server thread and a client on 127.0.0.1:PORT, ten requests answered at once (each answer
// carries the ACK of its request), then a close.
std::string ping_pong(int port) {
  return "import socket, threading\n"
         "l = socket.socket(); l.bind(('127.0.0.1', " + std::to_string(port) + ")); l.listen()\n"
         "def serve():\n"
         "    c, _ = l.accept()\n"
         "    while True:\n"
         "        d = c.recv(100)\n"
         "        if not d: break\n"
         "        c.sendall(d.upper())\n"
         "    c.close()\n"
         "t = threading.Thread(target=serve); t.start()\n"
         "s = socket.create_connection(('127.0.0.1', " + std::to_string(port) + "))\n"
         "for i in range(10):\n"
         "    s.sendall(b'ping %d' % i); r = s.recv(100)\n"
         "print(r.decode()); s.close(); t.join()\n";
}

}  // namespace

TEST_CASE("wrap --link latency=50ms: the kernel's RTT on 127.0.0.1 and the wire show two crossings of the link",
          "[wrap][link]") {
  TempDir dir("wrap-link");
  const auto policy = wrap_policy(dir, "wrap-plain", "");
  const auto trace_file = dir.path / "wrap-link.jsonl";
  const auto r = run_lastack({"wrap", "--policy", policy.string(), "--port", "8767", "--link", "latency=50ms", "-q",
                              "--json", trace_file.string(), "--", "/usr/bin/python3", "-c", ping_pong(8767)});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("| PING 9"));
  const auto trace = lastack::test::trace_lines(trace_file);
  CHECK(harness_errors(trace) == 0);
  REQUIRE(trace.front().contains("link"));  // the run records the link it carried
  // The bounds, from the link and the kernel's clock: every RTT sample spans the request's
  // crossing and the answer's, each held at least the latency (the link never delivers early),
  // so smoothed it is at least 2 x 50 ms. Above that: the peer's turnaround, an answer at once
  // (well under a jiffy), or at worst one delayed ACK, whose shortest timer is TCP_ATO_MIN =
  // HZ/25 = 10 jiffies, and a jiffy of timer lateness.
  const double jiffy_ms = trace.front()["jiffy_us"].get<double>() / 1000;
  const double latency = 50, lo_bound = 2 * latency, hi_bound = 2 * latency + 11 * jiffy_ms;
  std::vector<double> rtts;
  for (const Json& j : trace)
    if (j["type"] == "socket" && j["state"] == "ESTABLISHED" && j.contains("rtt_us"))
      rtts.push_back(static_cast<double>(j["rtt_us"].get<std::int64_t>()) / 1000);
  REQUIRE_FALSE(rtts.empty());
  const double lo = *std::min_element(rtts.begin(), rtts.end()), hi = *std::max_element(rtts.begin(), rtts.end());
  std::printf("wrap, 50ms link on lo: %zu tcpi_rtt samples, %.1f to %.1f ms (bounds %.0f to %.0f ms)\n", rtts.size(), lo,
              hi, lo_bound, hi_bound);
  CHECK(lo >= lo_bound);
  CHECK(hi <= hi_bound);
  // The wire's word (inference, labelled as such): each segment, in both directions, left the
  // link no earlier than 50 ms after it entered lo (the schedule is never early), and later by
  // no more than the RTT's allowance above (the interceptor's timer is the host's: its release
  // runs 0.05 ms late at the median, a few ms at worst on a busy machine; docs/design.md).
  std::size_t from_client = 0, from_server = 0;
  double cmin = 1e9, cmax = 0;
  for (const Json& j : trace) {
    if (j["type"] != "wire" || j["injected"].get<bool>() || !j.contains("link") || j["delivered_ns"].is_null()) continue;
    const double crossing = static_cast<double>(j["delivered_ns"].get<std::int64_t>() - j["t_ns"].get<std::int64_t>()) / 1e6;
    cmin = std::min(cmin, crossing);
    cmax = std::max(cmax, crossing);
    (j["from"] == "client" ? from_client : from_server) += 1;
  }
  std::printf("wrap, 50ms link on lo: %zu + %zu segments crossed in %.2f to %.2f ms\n", from_client, from_server, cmin, cmax);
  CHECK(from_client >= 10);
  CHECK(from_server >= 10);
  CHECK(cmin >= latency);
  CHECK(cmax <= latency + 11 * jiffy_ms);
}

TEST_CASE("wrap: a reset in place of the client's 3rd data segment cuts the connection at both ends", "[wrap][reset]") {
  TempDir dir("wrap-reset");
  const auto policy = wrap_policy(dir, "wrap-reset", R"(
[[fault]]
segment = "data"
from = "client"
nth = 3
action = "reset"

[[expect]]
check = "reset"
received-by = "client"
count = 1

[[expect]]
check = "reset"
received-by = "server"
count = 1
)");
  // The client's 3rd request never arrives: a RST goes to each end in its place.
  const std::string script =
      "import socket, threading, errno\n"
      "l = socket.socket(); l.bind(('127.0.0.1', 8768)); l.listen()\n"
      "seen = {}\n"
      "def serve():\n"
      "    c, _ = l.accept()\n"
      "    try:\n"
      "        while c.recv(100): c.sendall(b'ok')\n"
      "        seen['server'] = 'eof'\n"
      "    except ConnectionResetError: seen['server'] = 'ECONNRESET'\n"
      "t = threading.Thread(target=serve); t.start()\n"
      "s = socket.create_connection(('127.0.0.1', 8768))\n"
      "try:\n"
      "    for i in range(4):\n"
      "        s.sendall(b'request %d' % i)\n"
      "        if not s.recv(100): break\n"
      "    seen['client'] = 'eof'\n"
      "except ConnectionResetError: seen['client'] = 'ECONNRESET'\n"
      "t.join(); print('client', seen['client'], 'server', seen['server'])\n"
      "raise SystemExit(0 if seen == {'client': 'ECONNRESET', 'server': 'ECONNRESET'} else 3)\n";
  const auto trace_file = dir.path / "wrap-reset.jsonl";
  const auto r = run_lastack({"wrap", "--policy", policy.string(), "--port", "8768", "--json", trace_file.string(), "--",
                              "/usr/bin/python3", "-c", script});
  INFO(r);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("| client ECONNRESET server ECONNRESET"));
  CHECK_THAT(r.out, Contains("PASS wrap under wrap-reset"));
  const auto trace = lastack::test::trace_lines(trace_file);
  CHECK(harness_errors(trace) == 0);
  std::size_t injected = 0, queued_rsts = 0, replaced = 0;
  std::vector<std::string> received_by;
  for (const Json& j : trace) {
    if (j["type"] == "wire" && j["injected"] == true) ++injected;
    // lastack's own RSTs are let by INPUT's queue (their mark), never decided a second time.
    if (j["type"] == "wire" && j["injected"] == false && j["queued"] == true &&
        j["flags"].get<std::string>().find('R') != std::string::npos)
      ++queued_rsts;
    if (j["type"] == "wire" && j["fate"] == "dropped") ++replaced;
    if (j["type"] == "reset" && j["sent"] == false) received_by.push_back(j["side"].get<std::string>());
  }
  CHECK(replaced == 1);
  CHECK(injected == 2);
  CHECK(queued_rsts == 0);
  // The kernel's word (tcp_receive_reset): each end took one, by its socket's own side.
  std::sort(received_by.begin(), received_by.end());
  CHECK(received_by == std::vector<std::string>{"client", "server"});
}

TEST_CASE("a reset over a 50 ms link: its RSTs cross the link behind what their senders sent", "[link][reset]") {
  // Sent at once, the client's RST would overtake the three data segments still on the link and
  // fall below its RCV.NXT (a challenge ACK, no reset): reset-mid-transfer would fail.
  TempDir dir("link-reset");
  const auto trace_file = dir.path / "reset.jsonl";
  const auto r = run_lastack({"run", "-q", "--link", "latency=50ms", "--json", trace_file.string(), "reset-mid-transfer"});
  INFO(r);
  CHECK(r.exit_code == 0);
  std::size_t carried = 0;
  for (const Json& j : lastack::test::trace_lines(trace_file))
    if (j["type"] == "wire" && j["injected"] == true && j.contains("link")) {
      ++carried;
      CHECK(j["link"]["delay_ns"].get<std::int64_t>() == 50'000'000);
      CHECK(j["link"]["drop"].is_null());
      CHECK_THAT(j["note"].get<std::string>(), Contains("crossed the link in"));
    }
  CHECK(carried == 2);
}

TEST_CASE("lastack replay of a --link run judges under the link it recorded, read as recorded", "[replay][link]") {
  TempDir dir("replay-link");
  const auto trace_file = dir.path / "link.jsonl";
  const auto r = run_lastack({"run", "-q", "--link", "latency=20ms", "--json", trace_file.string(), "drop-final-ack"});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  const auto replay = run_lastack({"replay", "-q", trace_file.string()});
  INFO(replay);
  CHECK(replay.exit_code == 0);
  CHECK_THAT(replay.out, Contains("link, as recorded (--link): client-to-server 20ms") &&
                             Contains("passages read from the trace as the run made them") &&
                             Contains("verdicts match the recording") && Contains("PASS drop-final-ack (replayed)"));
}

TEST_CASE("wrap refuses the link's duplicate in one line and exit 2, from --link or a policy's [link]", "[wrap][link]") {
  const auto flag = run_lastack({"wrap", "--policy", "drop-syn", "--link", "duplicate=0.1", "--", "true"});
  CHECK(flag.exit_code == 2);
  CHECK(flag.err == "lastack: --link: the link's duplicate is not supported under wrap, as a duplicate fault is not\n");
  TempDir dir("wrap-link-dup");
  const auto policy = wrap_policy(dir, "wrap-dup", "\n[link]\nduplicate = 0.1\n");
  const auto table = run_lastack({"wrap", "--policy", policy.string(), "--", "true"});
  CHECK(table.exit_code == 2);
  CHECK_THAT(table.err, Contains("wrap-dup.toml:7: the link's duplicate is not supported under wrap"));
  CHECK(table.err.find('\n') == table.err.size() - 1);
  // A bad --link value is one line too.
  const auto bad = run_lastack({"wrap", "--policy", "drop-syn", "--link", "latency=fast", "--", "true"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Matchers::StartsWith("lastack: --link latency=fast: latency: bad duration"));
  CHECK(bad.err.find('\n') == bad.err.size() - 1);
}

TEST_CASE("wrap --control: link set with a duplicate is refused in one line, as --link's is", "[wrap][link]") {
  TempDir dir("wrap-ctl-dup");
  const auto policy = wrap_policy(dir, "wrap-plain", "");
  const auto r = run_lastack({"wrap", "--control", "--policy", policy.string(), "-q", "--", "sh", "-c",
                              "'" + lastack::test::lastack_bin() + "' ctl link set duplicate=0.1 2>&1; echo rc=$?; '" +
                                  lastack::test::lastack_bin() + "' ctl link set latency=10ms; echo rc=$?"});
  INFO(r);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("the link's duplicate is not supported under wrap, as a duplicate fault is not"));
  CHECK_THAT(r.out, Contains("| rc=1\n") && Contains("| rc=0\n"));
}
