#pragma once
// The run's clock: Instants since the run started, read from CLOCK_MONOTONIC (steady_clock).
#include <chrono>

#include "lastack/clock.hpp"

namespace lastack {

/// Measures Instants from its construction.
class RunClock {
 public:
  RunClock() : start_(std::chrono::steady_clock::now()), wall_start_(std::chrono::system_clock::now()) {}
  /// Time since the run started.
  Instant now() const { return Instant(std::chrono::steady_clock::now() - start_); }
  /// The steady_clock time point of an Instant (for Asio timers).
  std::chrono::steady_clock::time_point at(Instant t) const {
    return start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(t.time_since_epoch());
  }
  /// The Instant of a CLOCK_MONOTONIC reading taken anywhere on this machine (another process's:
  /// steady_clock is CLOCK_MONOTONIC, so its epoch is shared).
  Instant from_monotonic(std::chrono::nanoseconds monotonic) const {
    return Instant(monotonic - std::chrono::duration_cast<Duration>(start_.time_since_epoch()));
  }
  /// The Instant of a CLOCK_REALTIME reading (a packet socket's kernel timestamp). Packet
  /// timestamps are CLOCK_REALTIME while the run's clock is CLOCK_MONOTONIC: the offset between
  /// them is the one read once at construction (both clocks read back to back), so an NTP step
  /// during the run would shift wire times against kernel and app events by that step.
  Instant from_realtime(std::chrono::nanoseconds realtime) const {
    return Instant(realtime - std::chrono::duration_cast<Duration>(wall_start_.time_since_epoch()));
  }
  /// The wall-clock (CLOCK_REALTIME) time of Instant 0, read once with the start: for absolute
  /// timestamps in exported captures.
  std::chrono::sys_time<std::chrono::nanoseconds> wall_start() const { return wall_start_; }

 private:
  std::chrono::steady_clock::time_point start_;
  std::chrono::sys_time<std::chrono::nanoseconds> wall_start_;
};

}  // namespace lastack
