#pragma once
// Bounds-checked big-endian reads over a byte span: the one place packet parsing checks lengths.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace lastack {

/// A cursor over bytes that throws ParseError instead of reading past the end.
class ByteReader {
 public:
  /// `what` names the bytes in error messages ("IPv4 header"); it must outlive the reader.
  ByteReader(std::span<const std::uint8_t> bytes, std::string_view what) : bytes_(bytes), what_(what) {}

  /// Next byte.
  std::uint8_t u8() { return take(1)[0]; }
  /// Next two bytes as a big-endian (network order) number.
  std::uint16_t u16() {
    auto b = take(2);
    return static_cast<std::uint16_t>((b[0] << 8) | b[1]);
  }
  /// Next four bytes as a big-endian (network order) number.
  std::uint32_t u32() {
    auto b = take(4);
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
  }
  /// Move past n bytes.
  void skip(std::size_t n) { take(n); }
  /// The next n bytes, consumed.
  std::span<const std::uint8_t> bytes(std::size_t n) { return take(n); }
  /// A reader over the next n bytes (consumed here), naming them `what` in its errors.
  ByteReader sub(std::size_t n, std::string_view what) { return ByteReader(take(n), what); }
  /// Bytes not yet read.
  std::size_t remaining() const { return bytes_.size() - offset_; }
  /// Bytes read so far.
  std::size_t offset() const { return offset_; }
  /// The bytes not yet read, without consuming them.
  std::span<const std::uint8_t> rest() const { return bytes_.subspan(offset_); }

 private:
  std::span<const std::uint8_t> take(std::size_t n) {
    if (n > remaining()) overrun(n);
    auto out = bytes_.subspan(offset_, n);
    offset_ += n;
    return out;
  }
  [[noreturn]] void overrun(std::size_t wanted) const;

  std::span<const std::uint8_t> bytes_;
  std::string_view what_;
  std::size_t offset_ = 0;
};

}  // namespace lastack
