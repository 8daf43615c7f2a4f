#pragma once
// Fitting UTF-8 text into terminal columns (the ladder's arrows, the verdict table).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace lastack {

/// Terminal columns `text` takes: one per code point (the reports use no wide characters).
std::size_t display_columns(std::string_view text);

/// `text` broken at spaces into lines of at most `width` columns, never between a number and
/// its time unit ("204 ms"); a longer word gets a line of its own. At least one line.
std::vector<std::string> wrap_columns(std::string_view text, std::size_t width);

}  // namespace lastack
