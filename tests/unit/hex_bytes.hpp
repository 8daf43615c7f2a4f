#pragma once
// Unit-test helper: packets written as hex text, the way fixtures show them.
#include <cstdint>
#include <string_view>
#include <vector>

namespace lastack::test {

/// Bytes from hex text; spaces and newlines are ignored.
inline std::vector<std::uint8_t> hex(std::string_view text) {
  std::vector<std::uint8_t> out;
  int high = -1;
  for (char c : text) {
    if (c == ' ' || c == '\n') continue;
    const int nibble = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    if (high < 0) {
      high = nibble;
    } else {
      out.push_back(static_cast<std::uint8_t>(high << 4 | nibble));
      high = -1;
    }
  }
  return out;
}

}  // namespace lastack::test
