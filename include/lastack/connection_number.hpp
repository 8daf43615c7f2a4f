#pragma once
// A run's connections in its two numberings: the trace's index, counted from 0 in order of
// first appearance on the wire, and the number a policy and its reader use, counted from 1.
// Two types, so one is never taken for the other; the only ways across are below.
#include <compare>
#include <cstddef>
#include <functional>

namespace lastack {

/// A connection's place in a run's trace: 0 for the first connection seen on the wire.
struct ConnectionIndex {
  std::size_t value = 0;
  auto operator<=>(const ConnectionIndex&) const = default;
};

/// A connection as a policy names it (`connection = 2`) and a verdict prints it: 1 for the first.
struct ConnectionNumber {
  std::size_t value = 1;
  auto operator<=>(const ConnectionNumber&) const = default;
};

/// The number a reader sees for the connection at `index`.
constexpr ConnectionNumber number_of(ConnectionIndex index) { return ConnectionNumber{index.value + 1}; }

/// The trace index of connection `number`; `number.value` >= 1 (the policy parser refuses 0).
constexpr ConnectionIndex index_of(ConnectionNumber number) { return ConnectionIndex{number.value - 1}; }

}  // namespace lastack

/// Hashable: a connection index keys per-connection maps.
template <>
struct std::hash<lastack::ConnectionIndex> {
  std::size_t operator()(lastack::ConnectionIndex i) const noexcept { return std::hash<std::size_t>{}(i.value); }
};
