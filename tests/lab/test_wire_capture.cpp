// The whole wire: the packet capture against the kernel, the interceptor's verdict order seen
// on it, and what a run's trace shows with selective capture.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "agents/agent.hpp"
#include "lastack/policy_parser.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "harness/engine/interceptor.hpp"
#include "lastack/run.hpp"
#include "harness/sys/net/iptables.hpp"
#include "harness/sys/net/nfqueue.hpp"
#include "harness/sys/net/raw_injector.hpp"
#include "lastack_process.hpp"
#include "loopback_sockets.hpp"

using namespace std::chrono_literals;
using namespace lastack;
using namespace lastack::test;

namespace {

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace

TEST_CASE("baseline's trace has its data segment and kernel wire times, with --capture selective", "[wire]") {
  char dir_template[] = "/tmp/lastack-wire-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  // A baseline whose checks count no data: selective capture then leaves the data unqueued.
  const auto r = run_lastack({"run", "--capture", "selective", "--json", dir + "/b.jsonl", "--pcap", dir + "/b.pcapng",
                              std::string(LASTACK_FIXTURES) + "/policies/selective-baseline.toml"});
  INFO(r);
  // Unqueued data can overtake the queued handshake ACK: the run then says so (exit 4), never passes silently.
  const bool reordered = r.out.find("the harness reordered the wire") != std::string::npos;
  REQUIRE((r.exit_code == 0 || (r.exit_code == 4 && reordered)));
  CHECK(r.out.find("P. seq 1 ack 1 len 1000") != std::string::npos);  // on the ladder
  const auto lines = read_jsonl(dir + "/b.jsonl");
  REQUIRE(!lines.empty());
  CHECK(lines[0]["every_segment"] == false);
  CHECK(lines[0]["whole_wire"] == true);
  std::optional<std::int64_t> syn_at, connected_at;
  int data = 0, wire = 0;
  for (const auto& e : lines) {
    if (e["type"] == "app" && e["step"] == "connect") connected_at = e["t_us"].get<std::int64_t>();
    if (e["type"] != "wire") continue;
    ++wire;
    INFO(e.dump());
    if (e["flags"] == "S") syn_at = e["t_us"].get<std::int64_t>();
    if (e["len"] == 1000) {
      ++data;
      CHECK(e["queued"] == false);
      CHECK(e["fate"] == "passed");
    }
    // Kernel times: each segment entered wire before it left it.
    REQUIRE(e["delivered_us"].is_number());
    CHECK(e["t_us"].get<std::int64_t>() <= e["delivered_us"].get<std::int64_t>());
  }
  CHECK(data == 1);
  CHECK(wire >= 9);
  REQUIRE(syn_at);
  REQUIRE(connected_at);
  CHECK(*syn_at < *connected_at);
  // Wireshark sees a whole conversation.
  if (std::system("command -v tshark >/dev/null 2>&1") == 0) {
    const auto t = run_process({"/bin/sh", "-c", "tshark -r " + dir + "/b.pcapng -q -z expert 2>&1"});
    INFO(t.out);
    CHECK(t.out.find("previous segment not captured") == std::string::npos);
    CHECK(t.out.find("Comments (") != std::string::npos);  // it did read the file
  } else {
    WARN("tshark not installed: the pcapng was not checked by Wireshark");
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a duplicated FIN behind a burst of passes leaves wire in the order it entered", "[wire][interceptor]") {
  const Policy policy = parse_policy(R"(
name = "duplicate-fin-behind-data"
summary = "data then FIN in one burst; the FIN is duplicated"
[scenario]
client = ["connect", "send 5000", "close"]
server = ["accept", "recv-until-eof", "close"]
[[fault]]
segment = "first-fin"
from = "client"
action = "duplicate"
)",
                                     "inline");
  RunOptions options;
  options.capture = Capture::all;  // the data segments are queued (passes) ahead of the FIN
  // The interceptor shares the agents' thread: holding it after the client's send lets segments
  // of both directions pile up in the queue, so one receive() gets them and the FIN as a burst.
  const AgentFactory agents = [](AgentConfig config, const Lab&, asio::io_context& io,
                                 const RunClock&) -> std::unique_ptr<AgentRunner> {
    if (config.side == Side::client)
      config.on_event = [log = config.on_event](const AppEvent& e) {
        log(e);
        if (e.step == "send 5000") std::this_thread::sleep_for(30ms);
      };
    return std::make_unique<Agent>(io, std::move(config));
  };
  const RunResult result = run_policy(policy, options, agents);
  for (const LabEvent* e : harness_errors(result.trace)) FAIL(e->what);
  std::vector<const WireEvent*> sent;
  for (const WireEvent* w : wire_events(result.trace))
    if (w->info.from == Side::client && !w->injected) sent.push_back(w);
  REQUIRE(sent.size() >= 5);
  bool fin = false;
  for (std::size_t i = 1; i < sent.size(); ++i) {
    INFO(segment_text(*sent[i - 1]) << " then " << segment_text(*sent[i]));
    fin = fin || sent[i]->fate == Fate::duplicated;
    REQUIRE(sent[i - 1]->delivered_at);
    REQUIRE(sent[i]->delivered_at);
    CHECK(*sent[i - 1]->delivered_at <= *sent[i]->delivered_at);  // no segment overtook another
  }
  CHECK(fin);
  // Verdicts went out in queue order, and each one forwards its segment at once: whatever the
  // direction, a segment queued earlier left earlier.
  std::vector<const WireEvent*> queued;
  for (const WireEvent* w : wire_events(result.trace))
    if (w->queued) queued.push_back(w);
  std::sort(queued.begin(), queued.end(), [](const WireEvent* a, const WireEvent* b) { return a->packet < b->packet; });
  for (std::size_t i = 1; i < queued.size(); ++i) {
    INFO(segment_text(*queued[i - 1]) << " then " << segment_text(*queued[i]));
    CHECK(*queued[i - 1]->delivered_at <= *queued[i]->delivered_at);
  }
}

TEST_CASE("a queued packet the interceptor cannot parse is dropped and is a harness error", "[wire][interceptor]") {
  const sys::NetNamespace ns = loopback_namespace();
  sys::apply_iptables(ns, "*filter\n-A OUTPUT -p tcp -j NFQUEUE --queue-num 0\nCOMMIT\n", false);
  asio::io_context io;
  RunClock clock;
  Policy policy;
  Interceptor interceptor(io, clock, sys::NfQueuePort::open_in(ns, 0, 0), sys::RawInjector::open_in(ns),
                          FlowTracker({loopback_address(IpFamily::v4)}), policy, 0, {});
  interceptor.start();
  // 127.0.0.1 > 127.0.0.1, TCP with data offset 15 in a 20-byte TCP header: netfilter's tcp
  // match lets it through, parse_segment cannot.
  std::vector<std::uint8_t> packet{0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
                                   0x9c, 0x40, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0xf0, 0x02, 0xff, 0xff,
                                   0, 0, 0, 0};
  sys::RawInjector sender = sys::RawInjector::open_in(ns);
  sender.inject(packet);
  io.run_for(300ms);
  interceptor.stop();
  const auto errors = interceptor.harness_errors();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].kind == LabEventKind::harness_error);
  CHECK_THAT(errors[0].what, Catch::Contains("cannot be parsed") && Catch::Contains("40 bytes") &&
                                 Catch::Contains("first 45000028"));
  CHECK(interceptor.events().empty());
}
