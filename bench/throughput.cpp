// lastack_bench: bulk throughput through the lab as ratios measured in one run (plain routed
// veth path vs. selective vs. full interception), plus the lab's setup+teardown cost.
// See bench/README.md for what each figure means.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "lastack/error.hpp"
#include "lastack/policy_parser.hpp"
#include "lastack/run.hpp"
#include "lastack/privilege.hpp"
#include "bench/bench_main.hpp"

namespace lastack {
namespace {

using Seconds = std::chrono::duration<double>;

/// One way of running the bulk transfer: a capture mode, with or without the whole-wire observer.
struct BenchMode {
  Capture capture;
  bool observe_wire;  // the packet capture in wire (every mode but `bare`)
  const char* key;
  const char* name;
};

// `none` is the plain path every ratio is taken against; `bare` is the same without the packet
// capture, so none / bare is what the full-wire observer costs.
constexpr std::array<BenchMode, 4> kModes = {{
    {Capture::none, true, "none", "none (plain veth path)"},
    {Capture::selective, true, "selective", "selective"},
    {Capture::all, true, "all", "all (every segment queued)"},
    {Capture::none, false, "bare", "bare (no wire observer)"},
}};

/// A fault-free policy: the client sends `bytes` and closes, the server reads to EOF.
/// Settle 0: the bench wants no idle time after the agents are done.
Policy transfer_policy(std::uint64_t bytes, const std::string& name) {
  return parse_policy(fmt::format(R"(name = "{}"
summary = "bench: one transfer, no faults"
[scenario]
client = ["connect", "send {}", "close"]
server = ["accept", "recv-until-eof", "close"]
settle = "0ms"
timeout = "600s"
)",
                                  name, bytes),
                      "<bench>");
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

long peak_rss_mb() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

/// One bulk run, as read from its trace.
struct BulkSample {
  double mb_per_s = 0;          // delivered bytes / (server EOF - client connect done), 1 MB = 1e6 B
  Seconds transfer{};           // that time span
  std::uint64_t delivered = 0;  // bytes the server's recv-until-eof read
  std::size_t queued = 0;       // WireEvents marked queued: segments that went through userspace
  std::uint64_t queue_drops = 0;
  bool passed = false;          // the oracle's verdict (informational: the bench has no expectations)
  Seconds wall{};
};

std::optional<Instant> app_event_time(const Trace& trace, Side side, std::string_view step, std::uint64_t* bytes) {
  for (const auto& e : trace.events)
    if (const auto* a = std::get_if<AppEvent>(&e); a && a->side == side && a->step == step) {
      if (bytes) *bytes = a->bytes;
      return a->at;
    }
  return std::nullopt;
}

BulkSample run_bulk(const Policy& policy, const BenchMode& mode) {
  RunOptions options;
  options.capture = mode.capture;
  options.observe_wire = mode.observe_wire;
  const RunResult result = run_policy(policy, options);
  BulkSample s;
  s.passed = result.passed();
  s.wall = result.wall;
  s.queue_drops = result.trace.queue_drops;
  for (const auto& e : result.trace.events)
    if (const auto* w = std::get_if<WireEvent>(&e)) s.queued += w->queued;
  const auto connected = app_event_time(result.trace, Side::client, "connect", nullptr);
  const auto eof = app_event_time(result.trace, Side::server, "recv-until-eof", &s.delivered);
  if (!connected || !eof || *eof <= *connected)
    throw HarnessError(fmt::format("bench: capture {}: the transfer did not complete (no connect or EOF event)",
                                   mode.key));
  s.transfer = *eof - *connected;
  s.mb_per_s = static_cast<double>(s.delivered) / 1e6 / s.transfer.count();
  // With nothing queued the oracle has no wire to judge (it then flags a TIME_WAIT without a FIN).
  if (!result.passed() && mode.capture != Capture::none)
    for (const auto& r : result.results)
      if (r.outcome == Outcome::fail) std::fprintf(stderr, "  note: check failed: %s (saw: %s)\n", r.name.c_str(), r.saw.c_str());
  return s;
}

/// One tiny run: run_policy's wall time against the agents' own span.
struct SetupSample {
  Seconds wall{};
  Seconds agents{};  // first to last app event: what the scenario itself took
};

SetupSample run_tiny(const Policy& policy) {
  // Timed around the call, not by RunResult::wall: that ends before the lab is torn down.
  const auto started = std::chrono::steady_clock::now();
  const RunResult result = run_policy(policy, RunOptions{});
  const auto wall = std::chrono::steady_clock::now() - started;
  std::optional<Instant> first, last;
  for (const auto& e : result.trace.events)
    if (const auto* a = std::get_if<AppEvent>(&e)) {
      if (!first) first = a->at;
      last = a->at;
    }
  SetupSample s;
  s.wall = std::chrono::duration_cast<decltype(s.wall)>(wall);
  if (first) s.agents = *last - *first;
  return s;
}

/// What the whole-wire observer costs: 1 - none / bare, per round (median) and of the medians.
void print_observer_cost(const std::vector<std::vector<BulkSample>>& samples, nlohmann::json& out) {
  const std::size_t none = 0, bare = 3;
  std::vector<double> none_rates, bare_rates, costs;
  for (std::size_t r = 0; r < samples[none].size(); ++r) {
    none_rates.push_back(samples[none][r].mb_per_s);
    bare_rates.push_back(samples[bare][r].mb_per_s);
    costs.push_back(1 - samples[none][r].mb_per_s / samples[bare][r].mb_per_s);
  }
  const double of_medians = 1 - median(none_rates) / median(bare_rates), per_round = median(costs);
  fmt::print("\nWhole-wire observer (packet capture) cost: 1 - none/bare = {:.1f} % (of medians), {:.1f} % "
             "(median per round)\n",
             100 * of_medians, 100 * per_round);
  out["observer_cost"] = {{"of_medians", of_medians}, {"median_per_round", per_round}};
}

struct Options {
  std::uint64_t bytes = 100'000'000;
  unsigned rounds = 5;
  std::string json_file;
};

int bench(const Options& opt) {
  const Policy bulk = transfer_policy(opt.bytes, "bench-bulk");
  const Policy tiny = transfer_policy(1000, "bench-tiny");

  // samples[mode][round]; each round runs every mode, starting from a different one, so slow
  // phases of a noisy machine hit every mode alike.
  std::vector<std::vector<BulkSample>> samples(kModes.size(), std::vector<BulkSample>(opt.rounds));
  for (unsigned round = 0; round < opt.rounds; ++round)
    for (std::size_t k = 0; k < kModes.size(); ++k) {
      const std::size_t m = (round + k) % kModes.size();
      std::fprintf(stderr, "round %u/%u: capture %-9s ... ", round + 1, opt.rounds, kModes[m].key);
      std::fflush(stderr);
      samples[m][round] = run_bulk(bulk, kModes[m]);
      const BulkSample& s = samples[m][round];
      std::fprintf(stderr, "%8.1f MB/s, %zu queued, %llu dropped, peak RSS %ld MB\n", s.mb_per_s, s.queued,
                   static_cast<unsigned long long>(s.queue_drops), peak_rss_mb());
      if (s.delivered != opt.bytes)
        throw HarnessError(fmt::format("bench: capture {} delivered {} of {} bytes", kModes[m].key,
                                       s.delivered, opt.bytes));
    }

  const unsigned tiny_runs = std::max(opt.rounds, 5u);
  std::vector<double> tiny_wall, tiny_agents, tiny_overhead;
  for (unsigned i = 0; i < tiny_runs; ++i) {
    std::fprintf(stderr, "setup %u/%u ... ", i + 1, tiny_runs);
    const SetupSample s = run_tiny(tiny);
    tiny_wall.push_back(s.wall.count() * 1e3);
    tiny_agents.push_back(s.agents.count() * 1e3);
    tiny_overhead.push_back((s.wall - s.agents).count() * 1e3);
    std::fprintf(stderr, "wall %.1f ms, agents %.1f ms\n", tiny_wall.back(), tiny_agents.back());
  }

  nlohmann::json out;
  out["bytes"] = opt.bytes;
  out["rounds"] = opt.rounds;
  fmt::print("Bulk transfer of {} bytes, {} rounds, modes interleaved (1 MB = 1e6 bytes)\n\n", opt.bytes, opt.rounds);
  fmt::print("{:<28} {:>10} {:>17} {:>9} {:>14} {:>11} {:>6}\n", "capture", "MB/s (med)", "min..max", "ratio",
             "round ratio", "queued (med)", "drops");
  std::vector<double> none_rates;
  for (const auto& s : samples[0]) none_rates.push_back(s.mb_per_s);
  const double none_median = median(none_rates);
  for (std::size_t m = 0; m < kModes.size(); ++m) {
    std::vector<double> rates, round_ratios, queued;
    std::uint64_t drops = 0;
    nlohmann::json runs = nlohmann::json::array();
    for (unsigned r = 0; r < opt.rounds; ++r) {
      const BulkSample& s = samples[m][r];
      rates.push_back(s.mb_per_s);
      round_ratios.push_back(s.mb_per_s / samples[0][r].mb_per_s);
      queued.push_back(static_cast<double>(s.queued));
      drops += s.queue_drops;
      runs.push_back({{"mb_per_s", s.mb_per_s}, {"transfer_s", s.transfer.count()}, {"queued", s.queued},
                      {"queue_drops", s.queue_drops}, {"wall_s", s.wall.count()}, {"oracle_passed", s.passed}});
    }
    const double med = median(rates);
    fmt::print("{:<28} {:>10.1f} {:>8.1f}..{:<8.1f} {:>9.3f} {:>14.3f} {:>12.0f} {:>6}\n", kModes[m].name, med,
               *std::min_element(rates.begin(), rates.end()), *std::max_element(rates.begin(), rates.end()),
               med / none_median, median(round_ratios), median(queued), drops);
    out["modes"][kModes[m].key] = {{"median_mb_per_s", med},
                                         {"ratio_to_none", med / none_median},
                                         {"median_round_ratio", median(round_ratios)},
                                         {"median_queued", median(queued)},
                                         {"queue_drops", drops},
                                         {"runs", runs}};
  }
  print_observer_cost(samples, out);
  const double wall = median(tiny_wall), agents = median(tiny_agents), overhead = median(tiny_overhead);
  fmt::print("\nLab cost, tiny fault-free run (send 1000, settle 0), median of {} runs:\n", tiny_runs);
  fmt::print("  run_policy wall {:.1f} ms, agents' span {:.1f} ms, setup+teardown+oracle {:.1f} ms "
             "(wall / agents {:.0f}x)\n",
             wall, agents, overhead, agents > 0 ? wall / agents : 0.0);
  fmt::print("Peak RSS of this process: {} MB\n", peak_rss_mb());
  out["setup"] = {{"runs", tiny_runs}, {"median_wall_ms", wall}, {"median_agents_ms", agents},
                  {"median_overhead_ms", overhead}};
  out["peak_rss_mb"] = peak_rss_mb();
  if (!opt.json_file.empty()) {
    std::ofstream f(opt.json_file);
    if (!f) throw InputError(fmt::format("{}: cannot write", opt.json_file));
    f << out.dump(2) << '\n';
  }
  return 0;
}

}  // namespace
}  // namespace lastack

int main(int argc, char** argv) {
  using namespace lastack;
  Options opt;
  CLI::App app{"lastack_bench: lab throughput as ratios (plain path / selective / all), and lab setup cost"};
  app.add_option("--bytes", opt.bytes, "bytes per bulk transfer")->check(CLI::Range(1ULL, 1ULL << 40));
  app.add_option("--rounds", opt.rounds, "rounds; each runs every capture mode once")->check(CLI::Range(1u, 100u));
  app.add_option("--json", opt.json_file, "also write the figures as JSON to this file");
  return bench_main("lastack_bench", app, argc, argv, [&] { return bench(opt); });
}
