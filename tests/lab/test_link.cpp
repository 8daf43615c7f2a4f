// The [link]: a bandwidth cap, latency and jitter, loss and duplication, carried out by the
// interceptor on every segment, and the kernel's own word that the path was so: its RTT
// (tcpi_rtt) and what the wire shows. No harness error; the shipped close policies still pass
// over a 50 ms link; the same seed loses and duplicates the same segments.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lastack_process.hpp"
#include "trace_lines.hpp"

using lastack::test::run_lastack;
using lastack::test::TempDir;
using Catch::Matchers::Contains;
using Json = nlohmann::json;

namespace {

using lastack::test::write_policy;

/// The trace's harness errors, one line each (none expected).
std::vector<std::string> harness_errors(const std::vector<Json>& trace) {
  std::vector<std::string> out;
  for (const Json& j : trace)
    if (j["type"] == "lab" && j["kind"] == "harness-error") out.push_back(j["what"].get<std::string>());
  return out;
}

double ms(std::int64_t ns) { return static_cast<double>(ns) / 1e6; }

/// The p-th quantile (0..1) of `v`, sorted in place.
double quantile(std::vector<double>& v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

/// How late the interceptor let each held segment go against the link's schedule (released -
/// due), and how late it left the wire (delivered - due), in ms; printed for docs/design.md.
void print_precision(const std::vector<Json>& trace, const char* what) {
  std::vector<double> released, delivered;
  for (const Json& j : trace) {
    if (j["type"] != "wire" || !j.contains("link") || !j["link"]["drop"].is_null()) continue;
    const auto due = j["link"]["due_ns"].get<std::int64_t>();
    if (due <= j["t_ns"].get<std::int64_t>()) continue;  // not held: went with the passes
    if (!j["released_ns"].is_null()) released.push_back(ms(j["released_ns"].get<std::int64_t>() - due));
    if (!j["delivered_ns"].is_null()) delivered.push_back(ms(j["delivered_ns"].get<std::int64_t>() - due));
  }
  const std::size_t n = released.size();
  std::printf("%s: %zu held segments; released - due: p50 %.3f ms, p99 %.3f ms, max %.3f ms; "
              "delivered - due: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
              what, n, quantile(released, 0.5), quantile(released, 0.99), quantile(released, 1),
              quantile(delivered, 0.5), quantile(delivered, 0.99), quantile(delivered, 1));
  CHECK(n > 0);
  // Never early: the schedule is a lower bound the timer keeps.
  if (!released.empty()) CHECK(released.front() >= 0);
}

}  // namespace

TEST_CASE("link rate = 8mbit: a 10 MB transfer measures within 5 % of 8 Mbit/s, no harness error", "[policy][link]") {
  TempDir dir("link-rate");
  const auto policy = write_policy(dir, "link-rate", R"(
[scenario]
client = ["connect", "recv 10000000", "close"]
server = ["accept", "send 10000000", "recv-until-eof", "close"]
timeout = "40s"

[link]
rate = "8mbit"
queue = "64kb"

[[expect]]
check = "app"
side = "client"
received = 10000000
)");
  const auto trace_file = dir.path / "rate.jsonl";
  const auto r = run_lastack({"run", "-q", "--json", trace_file.string(), policy.string()});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  const auto trace = lastack::test::trace_lines(trace_file);
  CHECK(harness_errors(trace).empty());
  // The server's segments as they left the wire toward the client: the link's output.
  std::int64_t first = -1, last = -1;
  std::uint64_t bytes = 0, payload = 0, link_drops = 0;
  for (const Json& j : trace) {
    if (j["type"] != "wire" || j["from"] != "server" || j["len"].get<std::uint64_t>() == 0) continue;
    if (j.contains("link") && !j["link"]["drop"].is_null()) ++link_drops;
    if (j["delivered_ns"].is_null()) continue;
    const auto t = j["delivered_ns"].get<std::int64_t>();
    if (first < 0) {
      first = t;  // the rate is what follows it, so its own bytes are not counted
    } else {
      bytes += j["wire_length"].get<std::uint64_t>();
      payload += j["len"].get<std::uint64_t>();
    }
    last = std::max(last, t);
  }
  REQUIRE(last > first);
  const double seconds = static_cast<double>(last - first) / 1e9;
  const double rate = static_cast<double>(bytes) * 8 / seconds;
  std::printf("8mbit link: %.3f s, %.3f Mbit/s of IP packets (%.3f Mbit/s of payload), %llu segments dropped "
              "by the link's queue\n",
              seconds, rate / 1e6, static_cast<double>(payload) * 8 / seconds / 1e6,
              static_cast<unsigned long long>(link_drops));
  CHECK(rate > 8e6 * 0.95);
  CHECK(rate < 8e6 * 1.05);
  print_precision(trace, "8mbit link");
}

TEST_CASE("link latency = 50ms, jitter = 10ms: the kernel's RTT and the wire show it, no harness error",
          "[policy][link]") {
  TempDir dir("link-latency");
  const auto policy = write_policy(dir, "link-latency", R"(
[scenario]
client = ["connect", "exchange 20000 by 1000", "close"]
server = ["accept", "answer 20000 by 1000", "recv-until-eof", "close"]

[link]
latency = "50ms"
jitter = "10ms"

[[expect]]
check = "app"
side = "client"
received = 20000
)");
  const auto trace_file = dir.path / "latency.jsonl";
  const auto r = run_lastack({"run", "-q", "--seed", "7", "--json", trace_file.string(), policy.string()});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  const auto trace = lastack::test::trace_lines(trace_file);
  CHECK(harness_errors(trace).empty());
  // The kernel's word: each side's smoothed RTT, sampled by sock_diag while established.
  std::vector<double> rtts;
  for (const Json& j : trace)
    if (j["type"] == "socket" && j["state"] == "ESTABLISHED" && j.contains("rtt_us"))
      rtts.push_back(static_cast<double>(j["rtt_us"].get<std::int64_t>()) / 1000);
  REQUIRE_FALSE(rtts.empty());
  const double lo = *std::min_element(rtts.begin(), rtts.end()), hi = *std::max_element(rtts.begin(), rtts.end());
  std::printf("50ms ± 10ms link: %zu tcpi_rtt samples, %.1f to %.1f ms\n", rtts.size(), lo, hi);
  CHECK(lo >= 80);   // two crossings of at least 40 ms
  CHECK(hi <= 125);  // two of at most 60 ms, and the peer's turnaround
  // The wire's word: each segment left the wire 40 to 60 ms after it entered (plus the timer's lateness).
  std::vector<double> crossing;
  for (const Json& j : trace) {
    if (j["type"] != "wire" || j["injected"].get<bool>() || j["delivered_ns"].is_null()) continue;
    crossing.push_back(ms(j["delivered_ns"].get<std::int64_t>() - j["t_ns"].get<std::int64_t>()));
    REQUIRE(j.contains("link"));
    CHECK(j["link"].contains("jitter_draw"));
  }
  const double cmin = *std::min_element(crossing.begin(), crossing.end());
  const double cmax = *std::max_element(crossing.begin(), crossing.end());
  std::printf("50ms ± 10ms link: %zu segments crossed the wire in %.2f to %.2f ms\n", crossing.size(), cmin, cmax);
  CHECK(cmin >= 40);
  CHECK(cmax <= 62);
  print_precision(trace, "50ms ± 10ms link");
}

TEST_CASE("the shipped close policies still pass over a 50 ms link (--link latency=50ms)", "[policy][link]") {
  const std::vector<std::string> close_family = {
      "baseline",           "drop-final-ack",  "drop-final-ack-no-timewait", "drop-first-fin", "drop-second-fin",
      "drop-first-fin-ack", "duplicate-fin",   "delay-final-ack",           "four-segment-close",
      "three-segment-close", "server-first-close", "simultaneous-close",    "half-close", "fin-with-data",
      "fin-before-data",    "timewait-restart"};
  std::vector<std::string> args = {"run", "-q", "--jobs", "2", "--link", "latency=50ms"};
  args.insert(args.end(), close_family.begin(), close_family.end());
  const auto r = run_lastack(args);
  INFO(r);
  CHECK(r.exit_code == 0);
  for (const std::string& p : close_family) CHECK_THAT(r.out, Contains("PASS " + p + " ("));
  CHECK_FALSE(Contains("harness error").match(r.out));
}

TEST_CASE("link loss and duplicate on a seed: the same segments twice, others on another seed", "[policy][link]") {
  TempDir dir("link-chance");
  const auto policy = write_policy(dir, "link-chance", R"(
[scenario]
client = ["connect", "exchange 30000 by 1000", "close"]
server = ["accept", "answer 30000 by 1000", "recv-until-eof", "close"]

[link.server-to-client]
loss = 0.1
duplicate = 0.1

[[expect]]
check = "app"
side = "client"
received = 30000
)");
  // What the link did by chance, segment by segment: "lost server seq 1001 len 1000 ack 2001".
  const auto decided = [&](const std::string& seed, const std::string& name) {
    const auto file = dir.path / (name + ".jsonl");
    const auto r = run_lastack({"run", "-q", "--seed", seed, "--json", file.string(), policy.string()});
    INFO(r);
    REQUIRE(r.exit_code == 0);
    const auto trace = lastack::test::trace_lines(file);
    CHECK(harness_errors(trace).empty());
    std::vector<std::string> out;
    for (const Json& j : trace) {
      if (j["type"] != "wire" || !j.contains("link")) continue;
      const Json& l = j["link"];
      const std::string what = fmt::format("{} seq {} len {} ack {} {}", j["from"].get<std::string>(),
                                           j["rel_seq"].get<std::uint64_t>(), j["len"].get<std::uint64_t>(),
                                           j["rel_ack"].get<std::uint64_t>(), j["flags"].get<std::string>());
      if (l["drop"] == "lost") out.push_back("lost " + what);
      if (l["duplicated"].get<bool>()) out.push_back("duplicated " + what);
    }
    return out;
  };
  const auto first = decided("7", "a");
  const auto second = decided("7", "b");
  const auto other = decided("8", "c");
  std::printf("seed 7: %s\nseed 8: %s\n", fmt::format("{}", fmt::join(first, ", ")).c_str(),
              fmt::format("{}", fmt::join(other, ", ")).c_str());
  REQUIRE(first.size() > 3);
  CHECK(first == second);
  CHECK(first != other);
}
