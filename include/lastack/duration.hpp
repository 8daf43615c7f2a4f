#pragma once
// Durations as a policy spells them: "50ms", "1.5s", "200us", "2m".
#include <chrono>
#include <string>
#include <string_view>

namespace lastack {

/// Parse a duration: a non-negative decimal number and a unit (us, ms, s, m): "50ms", "1s",
/// "1.5s", "200us", "2m". Rounds up to whole milliseconds, so any nonzero value is at least 1 ms.
/// Throws InputError(what) without a location; the caller adds file:line.
std::chrono::milliseconds parse_duration(std::string_view text);

/// The policy spelling of `d`, in the largest unit that is exact: "300ms", "2s", "1m".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace lastack
