#pragma once
// Bytes as lowercase hex text, the way a JSON Lines trace carries captured packets.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lastack {

/// Two lowercase hex digits per byte, no separators: "4500003c...".
std::string to_hex(std::span<const std::uint8_t> bytes);

/// Where hex text went wrong: the offset of the first bad character (the length, for an odd count).
struct HexError {
  std::size_t offset = 0;
  bool odd_length = false;
};

/// The bytes `text` spells in lowercase hex, or where it is not: a character other than 0-9 a-f,
/// or an odd number of digits.
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text, HexError* error = nullptr);

}  // namespace lastack
