// stable_sort_by_key: the order std::stable_sort gives, each item moved at most once.
#include <catch2/catch.hpp>

#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "harness/core/base/stable_order.hpp"

using lastack::stable_sort_by_key;

namespace {
// An item that counts its moves: a sorted vector must not be moved at all.
struct Counted {
  int key = 0;
  std::string tag;
  int* moves = nullptr;
  Counted(int k, std::string t, int* m) : key(k), tag(std::move(t)), moves(m) {}
  Counted(Counted&& o) noexcept : key(o.key), tag(std::move(o.tag)), moves(o.moves) { ++*moves; }
  Counted& operator=(Counted&& o) noexcept {
    key = o.key;
    tag = std::move(o.tag);
    moves = o.moves;
    ++*moves;
    return *this;
  }
};
}  // namespace

TEST_CASE("stable_sort_by_key keeps ties in their order, as std::stable_sort does") {
  std::mt19937 rng(7);
  std::vector<std::pair<int, int>> items;
  for (int i = 0; i < 2000; ++i) items.emplace_back(static_cast<int>(rng() % 50), i);
  auto expected = items;
  std::stable_sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  stable_sort_by_key(items, [](const auto& p) { return p.first; });
  CHECK(items == expected);
}

TEST_CASE("stable_sort_by_key leaves a sorted vector unmoved and moves each item once otherwise") {
  int moves = 0;
  std::vector<Counted> items;
  items.reserve(4);
  for (int k : {1, 2, 2, 5}) items.emplace_back(k, "t" + std::to_string(k), &moves);
  stable_sort_by_key(items, [](const Counted& c) { return c.key; });
  CHECK(moves == 0);

  std::vector<Counted> reversed;
  reversed.reserve(3);
  for (int k : {3, 2, 1}) reversed.emplace_back(k, "t" + std::to_string(k), &moves);
  stable_sort_by_key(reversed, [](const Counted& c) { return c.key; });
  REQUIRE(reversed.size() == 3);
  CHECK(reversed[0].tag == "t1");
  CHECK(reversed[2].tag == "t3");
  CHECK(moves == 3);  // into the new vector; the vector itself is moved, not its items
}

TEST_CASE("stable_sort_by_key takes move-only items and an empty vector") {
  std::vector<std::unique_ptr<int>> items;
  stable_sort_by_key(items, [](const auto& p) { return *p; });
  CHECK(items.empty());
  items.push_back(std::make_unique<int>(2));
  items.push_back(std::make_unique<int>(1));
  stable_sort_by_key(items, [](const auto& p) { return *p; });
  CHECK(*items[0] == 1);
  CHECK(*items[1] == 2);
}
