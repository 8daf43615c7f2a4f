// Terminal columns of UTF-8 text: count code points by their lead bytes.
#include "harness/core/text_columns.hpp"

#include <algorithm>

namespace lastack {
namespace {

bool continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

std::size_t display_columns(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !continuation_byte(c); }));
}

std::string truncate_columns(std::string_view text, std::size_t max) {
  if (display_columns(text) <= max) return std::string(text);
  if (max == 0) return "";
  std::size_t kept = 0, end = 0;
  // Keep max-1 code points, then the ellipsis.
  while (end < text.size()) {
    if (!continuation_byte(text[end])) {
      if (kept == max - 1) break;
      ++kept;
    }
    ++end;
  }
  return std::string(text.substr(0, end)) + "…";
}

}  // namespace lastack
