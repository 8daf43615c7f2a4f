// The agents' byte pattern: 32-byte blocks, each an 8-byte tag (magic, connection, side and
// block number, check byte) and 24 filler bytes that also depend on all three.
#include "harness/core/trace/byte_pattern.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace lastack {
namespace {

constexpr std::uint8_t magic = 0xA5;
constexpr std::size_t tag_size = 8;

// magic, connection (16 bits), side bit and block (31 bits: a stream's tags repeat every 64 GiB),
// check byte.
std::array<std::uint8_t, tag_size> tag(Side side, std::uint32_t connection, std::uint64_t block) {
  std::array<std::uint8_t, tag_size> t{};
  t[0] = magic;
  t[1] = static_cast<std::uint8_t>(connection >> 8);
  t[2] = static_cast<std::uint8_t>(connection);
  t[3] = static_cast<std::uint8_t>((side == Side::server ? 0x80 : 0) | ((block >> 24) & 0x7f));
  for (std::size_t i = 0; i < 3; ++i) t[4 + i] = static_cast<std::uint8_t>(block >> (8 * (2 - i)));
  std::uint8_t check = 0x5A;
  for (std::size_t i = 0; i < 7; ++i) check ^= t[i];
  t[7] = check;
  return t;
}

std::uint8_t filler(Side side, std::uint32_t connection, std::uint64_t block, std::size_t i) {
  const std::uint64_t v = block * 131 + i * 17 + connection * 29 + (side == Side::server ? 71 : 0) + 7;
  return static_cast<std::uint8_t>(v & 0xff);
}

}  // namespace

std::uint8_t pattern_byte(Side side, std::uint32_t connection, std::uint64_t offset) {
  const std::uint64_t block = offset / pattern_block;
  const std::size_t i = offset % pattern_block;
  if (i < tag_size) return tag(side, connection, block)[i];
  return filler(side, connection, block, i);
}

void fill_pattern(Side side, std::uint32_t connection, std::uint64_t offset, std::span<std::uint8_t> out) {
  // filler() is (block * 131 + the same for the whole block) + i * 17, modulo 256: one byte
  // added to a fixed row, which the compiler does 24 bytes at a time. The agents fill and check
  // every byte they move (megabytes a run): byte by byte, it was a sixth of the run's CPU.
  static constexpr auto steps = [] {
    std::array<std::uint8_t, pattern_block> a{};
    for (std::size_t i = 0; i < pattern_block; ++i) a[i] = static_cast<std::uint8_t>(i * 17);
    return a;
  }();
  std::size_t n = 0;
  while (n < out.size()) {
    const std::uint64_t block = (offset + n) / pattern_block;
    const std::size_t first = (offset + n) % pattern_block;
    const auto t = tag(side, connection, block);
    if (first == 0 && out.size() - n >= pattern_block) {
      std::uint8_t* b = out.data() + n;
      std::memcpy(b, t.data(), tag_size);
      const auto base = static_cast<std::uint8_t>(filler(side, connection, block, 0));
      for (std::size_t i = tag_size; i < pattern_block; ++i) b[i] = static_cast<std::uint8_t>(base + steps[i]);
      n += pattern_block;
      continue;
    }
    for (std::size_t i = first; i < pattern_block && n < out.size(); ++i, ++n)
      out[n] = i < tag_size ? t[i] : filler(side, connection, block, i);
  }
}

std::optional<PatternOrigin> decode_pattern(std::span<const std::uint8_t> bytes) {
  for (std::size_t p = 0; p + tag_size <= bytes.size(); ++p) {
    if (bytes[p] != magic) continue;
    std::uint8_t check = 0x5A;
    for (std::size_t i = 0; i < 7; ++i) check ^= bytes[p + i];
    if (check != bytes[p + 7]) continue;
    std::uint64_t block = bytes[p + 3] & 0x7f;
    for (std::size_t i = 0; i < 3; ++i) block = (block << 8) | bytes[p + 4 + i];
    if (block * pattern_block < p) continue;  // the tag would put bytes[0] before the stream
    PatternOrigin o;
    o.side = (bytes[p + 3] & 0x80) ? Side::server : Side::client;
    o.stream = static_cast<std::uint32_t>(bytes[p + 1]) << 8 | bytes[p + 2];
    o.offset = block * pattern_block - p;
    return o;
  }
  return std::nullopt;
}

std::optional<ConnectionIndex> pattern_connection(const PatternOrigin& origin, std::uint32_t copies) {
  if (copies > 1) return std::nullopt;
  return ConnectionIndex{origin.stream};
}

void PatternVerifier::feed(std::span<const std::uint8_t> bytes) {
  // An empty chunk checks nothing (and memcmp on its null data() would be undefined behaviour).
  if (bytes.empty()) return;
  const std::uint64_t at = offset_;
  offset_ += bytes.size();
  if (corrupted_ && !open_) return;  // only the first corrupted range is recorded
  expected_.resize(bytes.size());
  fill_pattern(sender_, connection_, at, expected_);
  if (!open_ && std::memcmp(bytes.data(), expected_.data(), bytes.size()) == 0) return;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const bool same = bytes[i] == expected_[i];
    if (!open_) {
      if (same) continue;
      corrupted_ = ByteRange{at + i, at + i + 1};
      open_ = true;
    }
    if (!same) {
      matching_run_ = 0;
      corrupted_->end = at + i + 1;
    } else if (++matching_run_ >= pattern_block) {
      open_ = false;  // a whole block as written: the foreign bytes ended at corrupted_->end
      break;
    }
    // Two blocks hold at least one whole tag, whatever the alignment.
    if (foreign_.size() < 2 * pattern_block) foreign_.push_back(bytes[i]);
  }
  if (!from_) {
    const std::size_t n = std::min<std::size_t>(foreign_.size(), corrupted_->end - corrupted_->begin);
    from_ = decode_pattern(std::span(foreign_.data(), n));
  }
}

}  // namespace lastack
