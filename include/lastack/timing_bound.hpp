#pragma once
// The bound a gap between two timer-driven events was judged with: its parts, each from the
// kernel (timer wheel, jiffies), the path (measured RTT) or the observers (their resolution).
#include <string>

#include "lastack/clock.hpp"

namespace lastack {

/// How far a measured gap between two timer-driven events may be from the timer's nominal
/// value, from the kernel's timer wheel, the path's round trip and the observer's resolution.
struct TimingBound {
  Duration early{};  // gap may be this much shorter (the arming jiffy, observation resolution)
  Duration late{};   // or this much longer (timer wheel level granularity, RTT, resolution)
  Duration timer{};  // the timer-wheel part of `late`
  Duration rtt{};    // the round-trip part of `late`
  Duration resolution{};  // the observation's own resolution, in both
  Duration host{};        // the loaded host running the expired timer late (late side only)
  Duration kernel{};      // how late the kernel itself says it ran the timers (measured, both sides)
  /// "bound -5 ms/+5.3 ms (timer +4 ms, RTT +0.3 ms, wire times ±1 ms)"
  std::string text() const;
  /// True when `gap` lies in [nominal - early, nominal + late].
  bool admits(Duration gap, Duration nominal) const;
  bool operator==(const TimingBound&) const = default;
};

}  // namespace lastack
