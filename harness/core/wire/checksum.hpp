#pragma once
// The Internet checksum (RFC 1071) that IPv4 headers and TCP segments carry.
#include <cstdint>
#include <span>

namespace lastack {

/// `sum` plus `bytes` read as big-endian 16-bit words (an odd last byte padded with zero).
/// Keep runs even-sized except the last; sums of IP packets (< 64 KiB) cannot overflow.
std::uint32_t checksum_add(std::uint32_t sum, std::span<const std::uint8_t> bytes);

/// The running sum folded to 16 bits and complemented: the value the checksum field holds.
std::uint16_t checksum_fold(std::uint32_t sum);

}  // namespace lastack
