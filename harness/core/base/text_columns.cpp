// Terminal columns of UTF-8 text: count code points by their lead bytes.
#include "harness/core/base/text_columns.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace lastack {
namespace {

bool continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

std::size_t display_columns(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !continuation_byte(c); }));
}

std::vector<std::string> wrap_columns(std::string_view text, std::size_t width) {
  // Words, with a time unit glued to its number: "204 ms" never splits across lines.
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t space = std::min(text.find(' ', start), text.size());
    const std::string_view word = text.substr(start, space - start);
    start = space + 1;
    if (word.empty()) continue;
    const std::string_view bare = word.substr(0, word.find_first_of("),;:."));
    const bool unit = bare == "ms" || bare == "s" || bare == "us";
    if (unit && !words.empty()) {
      words.back() += " " + std::string(word);
    } else {
      words.emplace_back(word);
    }
  }
  std::vector<std::string> lines(1);
  std::size_t used = 0;  // columns in lines.back()
  for (const std::string& word : words) {
    const std::size_t cols = display_columns(word);
    if (used > 0 && used + 1 + cols > width) {
      lines.emplace_back();
      used = 0;
    }
    if (used > 0) {
      lines.back() += ' ';
      ++used;
    }
    lines.back() += word;
    used += cols;
  }
  return lines;
}

}  // namespace lastack
