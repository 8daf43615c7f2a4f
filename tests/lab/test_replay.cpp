// `lastack replay`: a fresh `run --json` trace replays to the same verdicts (exit 0), a copy
// changed in one way fails (exit 1), and a trace that cannot be read exits 2 with one line.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "lastack/report.hpp"
#include "lastack_process.hpp"
#include "tests/unit/trace_mutations.hpp"
#include "lastack/trace_jsonl.hpp"

using lastack::test::run_lastack;
using lastack::test::TempDir;
using Catch::Matchers::Contains;

namespace {

lastack::RecordedRun read_run(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return lastack::read_recorded_run(in, file.string());
}

}  // namespace

TEST_CASE("lastack replay judges a fresh baseline trace as its run did, and a changed copy fails",
          "[replay][policy]") {
  TempDir dir("replay");
  const auto trace = dir.path / "baseline.jsonl";
  const auto run = run_lastack({"run", "-q", "baseline", "--json", trace.string()});
  INFO(run);
  REQUIRE(run.exit_code == 0);

  const auto replay = run_lastack({"replay", trace.string()});
  INFO(replay);
  CHECK(replay.exit_code == 0);
  CHECK_THAT(replay.out, Contains("verdicts match the recording") && Contains("PASS baseline (replayed)"));
  // --color always colours even into a pipe; the default (auto) does not.
  CHECK(replay.out.find("\x1b[") == std::string::npos);
  const auto coloured = run_lastack({"replay", "--color", "always", trace.string()});
  CHECK(coloured.exit_code == 0);
  CHECK(coloured.out.find("\x1b[") != std::string::npos);

  // The server's app read one byte less than the client wrote.
  lastack::RecordedRun recorded = read_run(trace);
  lastack::testing::set_app_bytes(recorded.trace, lastack::Side::server, "recv", 999);
  const auto mutated = dir.path / "baseline-999.jsonl";
  {
    std::ofstream out(mutated, std::ios::binary);
    lastack::write_jsonl(recorded.trace, recorded.checks, out);
  }
  const auto failed = run_lastack({"replay", "-q", mutated.string()});
  INFO(failed);
  CHECK(failed.exit_code == 1);
  CHECK_THAT(failed.out, Contains("FAIL  invariant  bytes-delivered") &&
                             Contains("verdicts differ from the recording (2):") &&
                             Contains("bytes-delivered: recorded PASS, replayed FAIL") &&
                             Contains("FAIL baseline (replayed)"));
}

TEST_CASE("lastack replay of a trace it cannot read exits 2 with one line", "[replay]") {
  TempDir dir("replay");
  const auto missing = run_lastack({"replay", (dir.path / "none.jsonl").string()});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err == "lastack: " + (dir.path / "none.jsonl").string() + ": cannot read the trace\n");

  const auto bad = dir.path / "bad.jsonl";
  std::ofstream(bad) << "{\"type\":\"run\"\n";
  const auto r = run_lastack({"replay", bad.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "lastack: " + bad.string() + ":1: not valid JSON (cut off or malformed) at byte 14\n");

  const std::string fixture = std::string(LASTACK_FIXTURES) + "/traces/baseline.jsonl";
  const auto unknown = run_lastack({"replay", "--policy", "no-such-policy", fixture});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Matchers::StartsWith("lastack: unknown policy \"no-such-policy\""));

  lastack::RecordedRun renamed = read_run(fixture);
  renamed.trace.policy = "my-own-policy";
  const auto own = dir.path / "own.jsonl";
  {
    std::ofstream out(own, std::ios::binary);
    lastack::write_jsonl(renamed.trace, renamed.checks, out);
  }
  const auto r2 = run_lastack({"replay", own.string()});
  CHECK(r2.exit_code == 2);
  CHECK_THAT(r2.err, Contains(own.string() + ": the trace's policy: unknown policy \"my-own-policy\"") &&
                         Contains("(give the file with --policy)"));
  const auto r3 = run_lastack({"replay", "-q", "--policy", "baseline", own.string()});
  CHECK(r3.exit_code == 0);
}
