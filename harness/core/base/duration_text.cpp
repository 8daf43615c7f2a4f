// Durations as text, rounded to what a person compares by eye.
#include "harness/core/base/duration_text.hpp"

#include <cmath>

#include <fmt/format.h>

namespace lastack {

std::string ms_text(Duration d) {
  const double ms = std::chrono::duration<double, std::milli>(d).count();
  if (std::fabs(ms) >= 99.95) return fmt::format("{:.0f} ms", ms);
  std::string text = fmt::format("{:.1f}", ms);
  if (text.ends_with(".0")) text.resize(text.size() - 2);  // "45 ms", not "45.0 ms"
  return text + " ms";
}

std::string ms_text(Instant t) { return ms_text(t.time_since_epoch()); }

std::string ms_list_text(const std::vector<Duration>& ds) {
  std::string out;
  for (const Duration d : ds) {
    if (!out.empty()) out += ", ";
    const std::string one = ms_text(d);
    out += one.substr(0, one.size() - 3);  // drop " ms": the unit is said once at the end
  }
  return out.empty() ? "none" : out + " ms";
}

std::string seconds_text(Duration d) {
  return fmt::format("{:.1f} s", std::chrono::duration<double>(d).count());
}

}  // namespace lastack
