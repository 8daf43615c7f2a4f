// Randomness that replays: `probability = 0.1` on the server's data under `--seed 7` drops the
// same segments in two runs (the same list in the JSON trace), another seed drops others, and
// every verdict holds; the seed is printed with each result, and `lastack replay` shows the draws.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lastack_process.hpp"

using lastack::test::run_lastack;
using lastack::test::TempDir;
using Catch::Matchers::Contains;
using Json = nlohmann::json;

namespace {

// What a trace says was lost by chance: its seed, and one entry per dropped segment.
struct Dropped {
  std::uint64_t seed = 0;
  std::vector<std::string> segments;  // "#match from rel_seq+len"
  std::size_t draws = 0;              // every draw, fired or not
};

Dropped dropped_in(const std::filesystem::path& file) {
  std::ifstream in(file);
  Dropped out;
  for (std::string line; std::getline(in, line);) {
    const Json j = Json::parse(line);
    if (j["type"] == "run") out.seed = j.at("random_seed").get<std::uint64_t>();
    if (j["type"] != "wire" || !j.contains("draws")) continue;
    for (const Json& d : j["draws"]) {
      ++out.draws;
      // A fired draw is the fault acting: the segment is dropped, and nothing else is.
      CHECK(d["fired"].get<bool>() == (j["fate"] == "dropped"));
      if (d["fired"].get<bool>())
        out.segments.push_back(fmt::format("#{} {} seq {} len {}", d["match"].get<std::uint64_t>(),
                                           j["from"].get<std::string>(), j["rel_seq"].get<std::uint64_t>(),
                                           j["len"].get<std::uint64_t>()));
    }
  }
  return out;
}

Dropped run_with_seed(const TempDir& dir, const std::string& seed, const std::string& name) {
  const auto trace = dir.path / (name + ".jsonl");
  const auto r = run_lastack({"run", "-q", "--seed", seed, "--json", trace.string(), "random-loss"});
  INFO(r);
  REQUIRE(r.exit_code == 0);  // every verdict holds
  CHECK_THAT(r.out, Contains(fmt::format("PASS random-loss (seed {}, ", seed)));
  return dropped_in(trace);
}

}  // namespace

TEST_CASE("probability 0.1 under --seed 7 drops the same server segments twice, and seed 8 others",
          "[policy][random]") {
  TempDir dir("random");
  const Dropped first = run_with_seed(dir, "7", "seed7-a");
  const Dropped second = run_with_seed(dir, "7", "seed7-b");
  const Dropped other = run_with_seed(dir, "8", "seed8");
  std::printf("seed 7, run 1: %s\nseed 7, run 2: %s\nseed 8:        %s\n",
              fmt::format("{}", fmt::join(first.segments, ", ")).c_str(),
              fmt::format("{}", fmt::join(second.segments, ", ")).c_str(),
              fmt::format("{}", fmt::join(other.segments, ", ")).c_str());
  CHECK(first.seed == 7);
  CHECK(other.seed == 8);
  REQUIRE_FALSE(first.segments.empty());
  CHECK(first.segments == second.segments);
  CHECK(first.draws == second.draws);
  CHECK(other.segments != first.segments);

  // The replay shows the seed and which draws fired.
  const auto replay = run_lastack({"replay", "-q", (dir.path / "seed7-a.jsonl").string()});
  INFO(replay);
  CHECK(replay.exit_code == 0);
  CHECK_THAT(replay.out, Contains("random seed 7") &&
                             Contains(fmt::format("fault 1 (line 25, p=0.1): {} of {} draws fired: ",
                                                  first.segments.size(), first.draws)));
}

TEST_CASE("run --repeat counts seeds up from --seed, and a failing run prints the seed that replays it",
          "[policy][random]") {
  const auto repeat = run_lastack({"run", "-q", "--seed", "41", "--repeat", "2", "random-loss"});
  INFO(repeat);
  CHECK(repeat.exit_code == 0);
  CHECK_THAT(repeat.out, Contains("PASS random-loss (seed 41, ") && Contains("PASS random-loss (seed 42, "));

  const std::string wrong = std::string(LASTACK_FIXTURES) + "/policies/random-loss-wrong.toml";
  const auto failed = run_lastack({"run", "-q", "--seed", "7", wrong});
  INFO(failed);
  CHECK(failed.exit_code == 1);
  CHECK_THAT(failed.out, Contains("FAIL random-loss-wrong (seed 7, ") &&
                             Contains("; replay: lastack run --seed 7 " + wrong + "\n"));

  // Without --seed or random-seed, the run draws one and prints it.
  const auto drawn = run_lastack({"run", "-q", "random-loss"});
  INFO(drawn.out << drawn.err);
  CHECK(drawn.exit_code == 0);
  CHECK_THAT(drawn.out, Contains("PASS random-loss (seed "));
}
