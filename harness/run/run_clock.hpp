#pragma once
// The run's clock: Instants since the run started, read from CLOCK_MONOTONIC (steady_clock).
#include <chrono>

#include "harness/core/clock.hpp"

namespace lastack {

/// Measures Instants from its construction.
class RunClock {
 public:
  RunClock() : start_(std::chrono::steady_clock::now()) {}
  /// Time since the run started.
  Instant now() const { return std::chrono::steady_clock::now() - start_; }
  /// The steady_clock time point of an Instant (for Asio timers).
  std::chrono::steady_clock::time_point at(Instant t) const {
    return start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(t);
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace lastack
