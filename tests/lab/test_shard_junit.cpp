// CI across machines: `--shard I/N` runs its share of the policy list, and `--junit` reports
// every run (forked ones too) with the failed checks' names.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "lastack_process.hpp"

using lastack::test::run_lastack;

namespace {
const std::string kFixtures = LASTACK_FIXTURES;

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

bool ran(const std::string& out, const std::string& policy) {
  return out.find("PASS " + policy + " (") != std::string::npos ||
         out.find("FAIL " + policy + " (") != std::string::npos;
}
}  // namespace

TEST_CASE("lastack run --shard 1/2 runs the 1st and 3rd policies", "[shard][policy]") {
  auto r = run_lastack({"run", "-q", "--shard", "1/2", "baseline", "drop-syn", "three-segment-close"});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  CHECK(ran(r.out, "baseline"));
  CHECK(ran(r.out, "three-segment-close"));
  CHECK_FALSE(ran(r.out, "drop-syn"));
  CHECK(r.out.find("2 runs: 2 passed, 0 failed") != std::string::npos);
}

TEST_CASE("lastack run --shard 2/2 runs the 2nd policy only", "[shard][policy]") {
  auto r = run_lastack({"run", "-q", "--shard", "2/2", "baseline", "drop-syn", "three-segment-close"});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  CHECK(ran(r.out, "drop-syn"));
  CHECK_FALSE(ran(r.out, "baseline"));
  CHECK_FALSE(ran(r.out, "three-segment-close"));
}

TEST_CASE("an empty shard says so and exits 0, a bad shard exits 2 with one line", "[shard]") {
  auto empty = run_lastack({"run", "--shard", "4/5", "baseline", "drop-syn"});
  CHECK(empty.exit_code == 0);
  CHECK(empty.out == "shard 4/5: no policies\n");

  auto bad = run_lastack({"run", "--shard", "4/3", "baseline"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err == "lastack: --shard 4/3: I must be between 1 and N\n");
  CHECK(run_lastack({"run", "--shard", "a/b", "baseline"}).exit_code == 2);
}

TEST_CASE("lastack run --junit -j 2 reports a failing forked run with its failed check", "[junit][jobs][policy]") {
  const auto path = std::filesystem::temp_directory_path() / ("lastack-junit-" + std::to_string(::getpid()) + ".xml");
  auto r = run_lastack({"run", "-q", "-j", "2", "--junit", path.string(), "baseline",
                        kFixtures + "/policies/wrong-expectation.toml"});
  INFO(r);
  CHECK(r.exit_code == 1);
  const std::string xml = slurp(path);
  std::filesystem::remove(path);
  INFO(xml);
  CHECK(xml.find(R"(<testsuite name="lastack" tests="2" failures="1" errors="0")") != std::string::npos);
  CHECK(xml.find(R"(<testcase classname="lastack.baseline" name="baseline")") != std::string::npos);
  const auto failing = xml.find(R"(<testcase classname="lastack.wrong-expectation" name="wrong-expectation")");
  REQUIRE(failing != std::string::npos);
  const auto failure = xml.find("<failure message=\"1 of ", failing);
  REQUIRE(failure != std::string::npos);
  // The failed check's name, as the verdict table words it, reached the parent from the child.
  CHECK(xml.find("TIME_WAIT", failure) != std::string::npos);
  CHECK(xml.find("expected: ", failure) != std::string::npos);
}
