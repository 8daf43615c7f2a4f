#pragma once
// TCP sequence numbers compare modulo 2^32 (RFC 9293 3.4): never with plain '<'.
#include <cstdint>

namespace lastack {

/// A 32-bit TCP sequence or acknowledgment number with wrap-safe arithmetic.
class SeqNum {
 public:
  constexpr SeqNum() = default;
  constexpr explicit SeqNum(std::uint32_t raw) : raw_(raw) {}

  /// The number as it appears on the wire.
  constexpr std::uint32_t raw() const { return raw_; }
  /// This number advanced by n octets of sequence space (wraps).
  constexpr SeqNum operator+(std::uint32_t n) const { return SeqNum(raw_ + n); }
  /// Signed distance from `other` to this number: positive when this is after other.
  constexpr std::int32_t operator-(SeqNum other) const {
    return static_cast<std::int32_t>(raw_ - other.raw_);
  }
  constexpr bool operator==(const SeqNum&) const = default;
  /// True when this number comes strictly before `other` in sequence space.
  constexpr bool before(SeqNum other) const { return (*this - other) < 0; }
  /// True when this number comes strictly after `other` in sequence space.
  constexpr bool after(SeqNum other) const { return (*this - other) > 0; }
  /// True when this number is at or after `other`.
  constexpr bool at_or_after(SeqNum other) const { return (*this - other) >= 0; }

 private:
  std::uint32_t raw_ = 0;
};

}  // namespace lastack
