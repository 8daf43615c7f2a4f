// `--shard I/N`: parsing the text, and which policy positions a shard keeps.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "lastack/error.hpp"
#include "harness/core/base/shard.hpp"

using namespace lastack;
using Catch::Matchers::Equals;

TEST_CASE("parse_shard reads I/N", "[shard]") {
  const Shard s = parse_shard("2/5");
  CHECK(s.index == 2);
  CHECK(s.count == 5);
  CHECK(parse_shard("1/1").count == 1);
}

TEST_CASE("parse_shard rejects out-of-range and malformed shards with one clear line", "[shard]") {
  auto message = [](const std::string& text) {
    try {
      parse_shard(text);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(message("4/3") == "--shard 4/3: I must be between 1 and N");
  CHECK(message("0/3") == "--shard 0/3: I must be between 1 and N");
  CHECK(message("1/0") == "--shard 1/0: N must be at least 1");
  CHECK(message("3") == "--shard 3: expected I/N, e.g. 1/4");
  CHECK(message("a/b") == "--shard a/b: expected I/N with whole numbers, e.g. 1/4");
  for (const char* bad : {"", "/", "1/", "/2", "-1/3", "+1/3", "1/3x", " 1/3", "1/2/3"})
    CHECK_THROWS_AS(parse_shard(bad), InputError);
}

TEST_CASE("shard_indices keeps positions with index % N == I-1, in order", "[shard]") {
  CHECK_THAT(shard_indices(7, {1, 3}), Equals(std::vector<std::size_t>{0, 3, 6}));
  CHECK_THAT(shard_indices(7, {2, 3}), Equals(std::vector<std::size_t>{1, 4}));
  CHECK_THAT(shard_indices(7, {3, 3}), Equals(std::vector<std::size_t>{2, 5}));
  CHECK_THAT(shard_indices(3, {1, 1}), Equals(std::vector<std::size_t>{0, 1, 2}));
}

TEST_CASE("the shards of N together cover every position exactly once", "[shard]") {
  for (std::size_t n = 1; n <= 6; ++n) {
    std::vector<int> seen(11, 0);
    for (std::size_t i = 1; i <= n; ++i)
      for (std::size_t k : shard_indices(11, {i, n})) ++seen[k];
    CHECK(seen == std::vector<int>(11, 1));
  }
}

TEST_CASE("a shard beyond the policy count is empty, not an error", "[shard]") {
  CHECK(shard_indices(3, {4, 5}).empty());
  CHECK(shard_indices(0, {1, 1}).empty());
}
