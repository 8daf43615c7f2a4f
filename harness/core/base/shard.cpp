#include "harness/core/base/shard.hpp"

#include <fmt/format.h>

#include <charconv>
#include <string>

#include "lastack/error.hpp"

namespace lastack {

namespace {
// A whole decimal number and nothing else: "3" yes; "", "+3", "3x", " 3" no.
bool parse_count(std::string_view text, std::size_t& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}
}  // namespace

Shard parse_shard(std::string_view text) {
  auto fail = [&](std::string_view what) {
    return InputError(fmt::format("--shard {}: {}", text, what));
  };
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) throw fail("expected I/N, e.g. 1/4");
  Shard shard;
  if (!parse_count(text.substr(0, slash), shard.index) || !parse_count(text.substr(slash + 1), shard.count))
    throw fail("expected I/N with whole numbers, e.g. 1/4");
  if (shard.count == 0) throw fail("N must be at least 1");
  if (shard.index < 1 || shard.index > shard.count) throw fail("I must be between 1 and N");
  return shard;
}

std::vector<std::size_t> shard_indices(std::size_t total, Shard shard) {
  std::vector<std::size_t> kept;
  if (shard.count == 0 || shard.index < 1 || shard.index > shard.count) return kept;  // never loop forever
  for (std::size_t i = shard.index - 1; i < total; i += shard.count) kept.push_back(i);
  return kept;
}

}  // namespace lastack
