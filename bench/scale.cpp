// lastack_bench_scale: thousand-final-acks at N = 1, 10, 100 and 1000 connections, in one run:
// wall time (and its ratio to N = 1), peak RSS, trace events per second. See bench/README.md.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lastack/error.hpp"
#include "lastack/policy_parser.hpp"
#include "lastack/run.hpp"
#include "lastack/privilege.hpp"
#include "bench/bench_main.hpp"

namespace lastack {
namespace {

constexpr std::array<std::uint32_t, 4> kSizes = {1, 10, 100, 1000};

struct Options {
  unsigned rounds = 3;
  std::string json_file;
};

/// One run at one size, as the child process that ran it reported it.
struct Sample {
  double wall_s = 0;         // run_policy: lab, agents, observers, oracle
  std::size_t events = 0;    // trace events
  std::string verdict;       // pass / fail / inconclusive
  long peak_rss_mb = 0;      // the child's own peak (wait4)
};

/// The shipped policy with `connections = n` (and its connections check counting n).
Policy policy_at(std::uint32_t n) {
  const std::string path = std::string(LASTACK_POLICY_DIR) + "/thousand-final-acks.toml";
  std::ifstream in(path);
  if (!in) throw EnvironmentError(fmt::format("{}: cannot read", path));
  std::stringstream text;
  text << in.rdbuf();
  Policy policy = parse_policy(text.str(), path);
  policy.scenario.connections = n;
  for (Expectation& e : policy.expect)
    if (auto* c = std::get_if<ConnectionsExpect>(&e)) c->count = n;
  return policy;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// Run `policy` in a child process (a fresh heap, so its peak RSS is this run's alone).
Sample run_in_child(const Policy& policy) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw HarnessError("bench: pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw HarnessError("bench: fork failed");
  if (pid == 0) {
    ::close(pipe_fds[0]);
    std::string line = "error";
    try {
      const auto start = std::chrono::steady_clock::now();
      const RunResult r = run_policy(policy, RunOptions{});
      const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - start;
      const char* verdict = r.verdict == RunVerdict::pass ? "pass" : r.verdict == RunVerdict::fail ? "fail" : "inconclusive";
      line = fmt::format("{} {} {}", wall.count(), r.trace.events.size(), verdict);
    } catch (const std::exception& e) {
      line = fmt::format("error {}", e.what());
    }
    (void)!::write(pipe_fds[1], line.data(), line.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string reply;
  char buf[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;) reply.append(buf, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  Sample s;
  std::istringstream fields(reply);
  if (!(fields >> s.wall_s >> s.events >> s.verdict)) throw HarnessError("bench: the run failed: " + reply);
  s.peak_rss_mb = usage.ru_maxrss / 1024;
  return s;
}

int bench(const Options& opt) {
  std::vector<Policy> policies;
  for (const std::uint32_t n : kSizes) policies.push_back(policy_at(n));
  // samples[size][round]; each round runs every size, starting from a different one.
  std::vector<std::vector<Sample>> samples(kSizes.size(), std::vector<Sample>(opt.rounds));
  for (unsigned round = 0; round < opt.rounds; ++round)
    for (std::size_t k = 0; k < kSizes.size(); ++k) {
      const std::size_t i = (round + k) % kSizes.size();
      std::fprintf(stderr, "round %u/%u: %4u connections ... ", round + 1, opt.rounds, kSizes[i]);
      std::fflush(stderr);
      const Sample& s = samples[i][round] = run_in_child(policies[i]);
      std::fprintf(stderr, "%s, %.2f s, %zu events, peak RSS %ld MB\n", s.verdict.c_str(), s.wall_s, s.events,
                   s.peak_rss_mb);
    }

  nlohmann::json out;
  out["rounds"] = opt.rounds;
  fmt::print("thousand-final-acks at N connections, {} rounds, sizes interleaved\n\n", opt.rounds);
  fmt::print("{:>6} {:>9} {:>15} {:>11} {:>12} {:>10} {:>12} {:>8}\n", "N", "wall (s)", "min..max", "× N=1",
             "round × N=1", "RSS (MB)", "events/s", "passed");
  std::vector<double> base;
  for (const Sample& s : samples[0]) base.push_back(s.wall_s);
  for (std::size_t i = 0; i < kSizes.size(); ++i) {
    std::vector<double> walls, round_ratios, rates;
    long rss = 0;
    unsigned passed = 0;
    nlohmann::json runs = nlohmann::json::array();
    for (unsigned r = 0; r < opt.rounds; ++r) {
      const Sample& s = samples[i][r];
      walls.push_back(s.wall_s);
      round_ratios.push_back(s.wall_s / samples[0][r].wall_s);
      rates.push_back(static_cast<double>(s.events) / s.wall_s);
      rss = std::max(rss, s.peak_rss_mb);
      passed += s.verdict == "pass";
      runs.push_back({{"wall_s", s.wall_s}, {"events", s.events}, {"peak_rss_mb", s.peak_rss_mb}, {"verdict", s.verdict}});
    }
    const double wall = median(walls);
    fmt::print("{:>6} {:>9.2f} {:>7.2f}..{:<7.2f} {:>11.2f} {:>12.2f} {:>10} {:>12.0f} {:>5}/{}\n", kSizes[i], wall,
               *std::min_element(walls.begin(), walls.end()), *std::max_element(walls.begin(), walls.end()),
               wall / median(base), median(round_ratios), rss, median(rates), passed, opt.rounds);
    out["sizes"][std::to_string(kSizes[i])] = {{"median_wall_s", wall},
                                               {"ratio_to_one", wall / median(base)},
                                               {"median_round_ratio", median(round_ratios)},
                                               {"peak_rss_mb", rss},
                                               {"median_events_per_s", median(rates)},
                                               {"passed", passed},
                                               {"runs", runs}};
  }
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
  CLI::App app{"lastack_bench_scale: thousand-final-acks at 1, 10, 100 and 1000 connections (wall, RSS, events/s)"};
  app.add_option("--rounds", opt.rounds, "rounds; each runs every size once")->check(CLI::Range(1u, 100u));
  app.add_option("--json", opt.json_file, "also write the figures as JSON to this file");
  return bench_main("lastack_bench_scale", app, argc, argv, [&] { return bench(opt); });
}
