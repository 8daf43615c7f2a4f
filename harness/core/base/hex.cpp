#include "harness/core/base/hex.hpp"

namespace lastack {
namespace {

constexpr char digits[] = "0123456789abcdef";

// Only lowercase: the writer spells it so, and one spelling keeps files comparable with diff.
int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string to_hex(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 0x0f];
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text, HexError* error) {
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
    const int high = nibble(text[i]), low = nibble(text[i + 1]);
    if (high < 0 || low < 0) {
      if (error) *error = {high < 0 ? i : i + 1, false};
      return std::nullopt;
    }
    out.push_back(static_cast<std::uint8_t>(high << 4 | low));
  }
  if (text.size() % 2 != 0) {
    if (error) *error = {nibble(text.back()) < 0 ? text.size() - 1 : text.size(), nibble(text.back()) >= 0};
    return std::nullopt;
  }
  return out;
}

}  // namespace lastack
