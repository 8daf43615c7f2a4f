// The agents' byte pattern: deterministic per side, connection and offset; decodable; verified.
#include <catch2/catch.hpp>

#include <vector>

#include "harness/core/trace/byte_pattern.hpp"

using namespace lastack;

TEST_CASE("the pattern depends on side, connection and offset, and fills like pattern_byte") {
  std::vector<std::uint8_t> a(100);
  fill_pattern(Side::client, 0, 17, a);
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == pattern_byte(Side::client, 0, 17 + i));
  std::vector<std::uint8_t> b(100), c(100);
  fill_pattern(Side::server, 0, 17, b);
  fill_pattern(Side::client, 1, 17, c);
  CHECK(a != b);
  CHECK(a != c);
}

TEST_CASE("bytes from anywhere in a stream decode to their side, connection and offset") {
  std::vector<std::uint8_t> bytes(64);
  fill_pattern(Side::server, 3, 1000, bytes);
  const auto o = decode_pattern(bytes);
  REQUIRE(o);
  CHECK(o->side == Side::server);
  CHECK(o->stream == 3);
  CHECK(o->offset == 1000);
}

TEST_CASE("connection numbers take 16 bits: two copies' streams, numbered by client port, differ and decode") {
  // What two copies of `connections = N` write: the same side and offsets, client ports 40217
  // and 40218 (and one 32768 apart, which a 15-bit number would confuse).
  std::vector<std::uint8_t> a(4096), b(4096), c(4096);
  fill_pattern(Side::client, 40217, 0, a);
  fill_pattern(Side::client, 40218, 0, b);
  fill_pattern(Side::client, 40217 - 32768, 0, c);
  CHECK(a != b);
  CHECK(a != c);
  const auto o = decode_pattern(std::span(b.data() + 100, 64));
  REQUIRE(o);
  CHECK(o->stream == 40218);
  CHECK(o->side == Side::client);
  CHECK(o->offset == 100);
  // The server copy that accepted 40217's connection reads 40218's bytes: caught, and named.
  PatternVerifier v(Side::client, 40217);
  v.feed(b);
  REQUIRE(v.corrupted());
  CHECK(v.corrupted()->begin == 2);  // the magic and the number's high byte agree
  CHECK(v.corrupted()->end == 4096);
  REQUIRE(v.corrupted_from());
  CHECK(v.corrupted_from()->stream == 40218);
}

TEST_CASE("a stream's offsets decode past 4 GiB (the tag's block number has 31 bits)") {
  std::vector<std::uint8_t> bytes(64);
  const std::uint64_t offset = (std::uint64_t{5} << 32) + 1000;  // 20 GiB in
  fill_pattern(Side::server, 7, offset, bytes);
  const auto o = decode_pattern(bytes);
  REQUIRE(o);
  CHECK(o->side == Side::server);
  CHECK(o->stream == 7);
  CHECK(o->offset == offset);
}

TEST_CASE("the verifier records the first corrupted range across chunks, and its origin") {
  PatternVerifier v(Side::client, 0);
  std::vector<std::uint8_t> stream(4096);
  fill_pattern(Side::client, 0, 0, stream);
  std::vector<std::uint8_t> wrong(200);
  fill_pattern(Side::server, 0, 64, wrong);  // the other direction's bytes, at offset 1000
  std::copy(wrong.begin(), wrong.end(), stream.begin() + 1000);
  v.feed(std::span(stream.data(), 1100));
  v.feed(std::span(stream.data() + 1100, stream.size() - 1100));
  REQUIRE(v.corrupted());
  CHECK(v.corrupted()->begin == 1000);
  CHECK(v.corrupted()->end >= 1190);  // a wrong byte may equal the right one by chance
  CHECK(v.corrupted()->end <= 1200);
  REQUIRE(v.corrupted_from());
  CHECK(v.corrupted_from()->side == Side::server);
  CHECK(v.corrupted_from()->offset == 64);
  CHECK(v.offset() == 4096);
}

TEST_CASE("a clean stream has no corrupted range") {
  PatternVerifier v(Side::server, 2);
  std::vector<std::uint8_t> stream(70000);
  fill_pattern(Side::server, 2, 0, stream);
  v.feed(stream);
  CHECK_FALSE(v.corrupted());
}

TEST_CASE("an old connection's bytes, unaligned, are one range however many bytes agree by chance") {
  // What stale-duplicate's server reads: connection 1's bytes from offset 3354462 (30 into a
  // block) at the start of connection 2's stream, then connection 2's own.
  PatternVerifier v(Side::client, 1);
  std::vector<std::uint8_t> stream(65536);
  fill_pattern(Side::client, 1, 0, stream);
  fill_pattern(Side::client, 0, 3354462, std::span(stream.data(), 4258));
  for (std::size_t at = 0; at < stream.size(); at += 1448)
    v.feed(std::span(stream.data() + at, std::min<std::size_t>(1448, stream.size() - at)));
  REQUIRE(v.corrupted());
  CHECK(v.corrupted()->begin == 0);
  CHECK(v.corrupted()->end > 4200);
  CHECK(v.corrupted()->end <= 4258);
  REQUIRE(v.corrupted_from());
  CHECK(v.corrupted_from()->side == Side::client);
  CHECK(v.corrupted_from()->stream == 0);
  CHECK(v.corrupted_from()->offset == 3354462);
}

TEST_CASE("an empty chunk changes nothing (no memcmp on a null pointer)", "[sanitizer]") {
  // The ASan+UBSan lab run's finding (exit-clean): a recv that returned no bytes fed an empty
  // span, whose null data() went to memcmp: undefined behaviour even for zero bytes.
  PatternVerifier v(Side::client, 0);
  std::vector<std::uint8_t> stream(100);
  fill_pattern(Side::client, 0, 0, stream);
  v.feed(std::span<const std::uint8_t>());
  v.feed(std::span(stream.data(), 50));
  v.feed(std::span<const std::uint8_t>(stream.data() + 50, std::size_t{0}));
  v.feed(std::span(stream.data() + 50, 50));
  CHECK_FALSE(v.corrupted());
  CHECK(v.offset() == 100);
}

TEST_CASE("fill_pattern equals pattern_byte at every alignment and length") {
  // Whole blocks take a faster path than the edges: both must give pattern_byte's bytes.
  for (std::uint64_t offset : {0ull, 1ull, 7ull, 8ull, 31ull, 32ull, 33ull, 4096ull + 5, (1ull << 40) + 19}) {
    for (std::size_t length : {0ul, 1ul, 24ul, 32ul, 63ul, 64ul, 65ul, 1000ul}) {
      for (Side side : {Side::client, Side::server}) {
        std::vector<std::uint8_t> got(length);
        fill_pattern(side, 5, offset, got);
        for (std::size_t i = 0; i < length; ++i) {
          INFO("offset " << offset << " length " << length << " byte " << i);
          REQUIRE(got[i] == pattern_byte(side, 5, offset + i));
        }
      }
    }
  }
}
