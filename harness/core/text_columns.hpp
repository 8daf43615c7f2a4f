#pragma once
// Fitting UTF-8 text into terminal columns (the ladder's arrows, the verdict table).
#include <cstddef>
#include <string>
#include <string_view>

namespace lastack {

/// Terminal columns `text` takes: one per code point (the reports use no wide characters).
std::size_t display_columns(std::string_view text);

/// `text` cut to at most `max` columns, ending in "…" when cut; never splits a code point.
std::string truncate_columns(std::string_view text, std::size_t max);

}  // namespace lastack
