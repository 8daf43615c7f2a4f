#pragma once
// One value for each endpoint of a connection, indexed by Side.
#include "lastack/roles.hpp"

namespace lastack {

/// A value for each side: `client` and `server` by name, or `[side]`.
template <typename T>
struct PerSide {
  T client{};
  T server{};

  /// The value of `side`.
  constexpr T& operator[](Side side) { return side == Side::client ? client : server; }
  /// The value of `side`.
  constexpr const T& operator[](Side side) const { return side == Side::client ? client : server; }

  bool operator==(const PerSide&) const = default;
};

/// Both sides' values of `f(side)`: the client's, then the server's.
template <typename F>
auto per_side(F&& f) -> PerSide<decltype(f(Side::client))> {
  return {f(Side::client), f(Side::server)};
}

}  // namespace lastack
