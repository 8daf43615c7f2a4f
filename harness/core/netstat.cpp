#include "harness/core/netstat.hpp"

#include <charconv>
#include <vector>

namespace lastack {

namespace {
std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::string_view next_line(std::string_view& text) {
  const std::size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}
}  // namespace

std::optional<std::uint64_t> netstat_counter(std::string_view text, std::string_view group,
                                             std::string_view name) {
  while (!text.empty()) {
    const std::string_view header = next_line(text);
    const auto names = words(header);
    if (names.empty() || names[0].size() != group.size() + 1 || names[0].substr(0, group.size()) != group ||
        names[0].back() != ':')
      continue;
    const auto values = words(next_line(text));
    for (std::size_t i = 1; i < names.size() && i < values.size(); ++i) {
      if (names[i] != name) continue;
      std::uint64_t v = 0;
      const auto [p, ec] = std::from_chars(values[i].data(), values[i].data() + values[i].size(), v);
      if (ec != std::errc() || p != values[i].data() + values[i].size()) return std::nullopt;
      return v;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace lastack
