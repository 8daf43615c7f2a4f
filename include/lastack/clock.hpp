#pragma once
// One time base for the whole run: nanoseconds since the run started, from CLOCK_MONOTONIC.
// Core code never reads a clock; callers pass Instants in (the injected clock).
#include <chrono>

namespace lastack {

/// A point in a run: time since the run's start.
using Instant = std::chrono::nanoseconds;
using Duration = std::chrono::nanoseconds;

}  // namespace lastack
