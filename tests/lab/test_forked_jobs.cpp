// Parallel runs: jobs in forked children come back complete and in order, whatever order they
// finish in; a child that dies is reported, not lost.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "harness/cli/forked_jobs.hpp"
#include "lastack_process.hpp"

using namespace lastack;

TEST_CASE("forked jobs report in index order with their exit codes", "[jobs]") {
  std::vector<std::size_t> started, order;
  std::vector<JobOutput> outputs;
  run_forked(
      4, 3,
      [](std::size_t i) {
        // Later jobs finish first: the order must come from the index, not the finish time.
        std::this_thread::sleep_for(std::chrono::milliseconds(60 - 20 * static_cast<int>(i % 3)));
        return JobOutput{static_cast<int>(i % 2), "job " + std::to_string(i) + "\n"};
      },
      [&](std::size_t i) { started.push_back(i); },
      [&](std::size_t i, const JobOutput& out) {
        order.push_back(i);
        outputs.push_back(out);
      });
  CHECK(started == std::vector<std::size_t>{0, 1, 2, 3});
  REQUIRE(order == std::vector<std::size_t>{0, 1, 2, 3});
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(outputs[i].text == "job " + std::to_string(i) + "\n");
    CHECK(outputs[i].exit_code == static_cast<int>(i % 2));
  }
}

TEST_CASE("a forked job that dies is reported as a harness failure", "[jobs]") {
  JobOutput seen;
  run_forked(
      1, 2,
      [](std::size_t) -> JobOutput {
        ::kill(::getpid(), SIGKILL);
        return {};
      },
      [](std::size_t) {}, [&](std::size_t, const JobOutput& out) { seen = out; });
  CHECK(seen.exit_code == 4);
  CHECK(seen.text.find("died with signal 9") != std::string::npos);
}

TEST_CASE("lastack run --jobs runs policies in parallel and summarises them in order", "[jobs][policy]") {
  auto r = lastack::test::run_lastack({"run", "-q", "-j", "3", "baseline", "three-segment-close", "drop-syn"});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  const auto a = r.out.find("\nbaseline "), b = r.out.find("\nthree-segment-close "), c = r.out.find("\ndrop-syn ");
  REQUIRE(a != std::string::npos);
  CHECK(a < b);
  CHECK(b < c);
  CHECK(r.out.find("3 runs: 3 passed, 0 failed") != std::string::npos);
}
