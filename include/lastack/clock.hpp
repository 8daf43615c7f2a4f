#pragma once
// One time base for the whole run: nanoseconds since the run started, from CLOCK_MONOTONIC.
// Core code never reads a clock; callers pass Instants in (the injected clock).
#include <chrono>
#include <cstdint>
#include <ratio>

namespace lastack {

/// A length of time.
using Duration = std::chrono::nanoseconds;

/// The run's time base as a chrono clock: its epoch is the run's start. A tag, never read here
/// (core code never reads a clock): harness/engine's RunClock measures Instants on it. It makes
/// a point in a run a type of its own, so an Instant is never mistaken for a Duration (two
/// Instants subtract to a Duration; they do not add).
struct RunEpoch {
  using rep = Duration::rep;
  using period = Duration::period;
  using duration = Duration;
  using time_point = std::chrono::time_point<RunEpoch, Duration>;
  static constexpr bool is_steady = true;
};

/// A point in a run: its time_since_epoch() is the time since the run's start.
using Instant = RunEpoch::time_point;

/// The Instant `ns` nanoseconds after the run's start (a trace's `t_ns`).
constexpr Instant instant_from_ns(std::int64_t ns) { return Instant(Duration(ns)); }

/// Nanoseconds since the run's start (a trace's `t_ns`).
constexpr std::int64_t ns_since_start(Instant t) { return t.time_since_epoch().count(); }

}  // namespace lastack
