// The run's clock: Instants since the run started, also for CLOCK_MONOTONIC readings taken by
// other processes (a `lastack agent`'s event times).
#include <catch2/catch.hpp>

#include <chrono>

#include "harness/engine/run_clock.hpp"

using namespace lastack;
using namespace std::chrono_literals;

TEST_CASE("a CLOCK_MONOTONIC reading maps to the Instant now() gives at that moment", "[run_clock]") {
  const RunClock clock;
  const Instant before = clock.now();
  const auto monotonic = std::chrono::steady_clock::now().time_since_epoch();
  const Instant after = clock.now();
  const Instant mapped = clock.from_monotonic(monotonic);
  CHECK(mapped >= before);
  CHECK(mapped <= after);
}

TEST_CASE("a reading taken before the run started is a negative Instant", "[run_clock]") {
  const auto earlier = std::chrono::steady_clock::now().time_since_epoch() - 5s;
  const RunClock clock;
  CHECK(clock.from_monotonic(earlier) <= Instant(-5s));
  CHECK(clock.from_monotonic(earlier) > Instant(-6s));
}
