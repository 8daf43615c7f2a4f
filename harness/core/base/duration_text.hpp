#pragma once
// Durations as people read them in verdicts and ladders: "212 ms", "12.3 ms", "60.0 s".
#include <string>
#include <vector>

#include "lastack/clock.hpp"

namespace lastack {

/// Milliseconds: one decimal below 100 ms unless whole ("12.3 ms", "45 ms"), whole above ("212
/// ms").
std::string ms_text(Duration d);

/// A point in a run as ms_text of its time since the run's start ("12.3 ms").
std::string ms_text(Instant t);

/// Seconds with one decimal: "60.0 s".
std::string seconds_text(Duration d);

/// Several gaps with one unit: "12.3, 204, 408 ms".
std::string ms_list_text(const std::vector<Duration>& ds);

}  // namespace lastack
