#pragma once
// A segment as the flow tracker classifies it, built by hand for the decision engine's tests.
#include <cstddef>

#include "lastack/flow_tracker.hpp"

namespace lastack::test {

/// A segment carrying `role`, sent by `from`, on the trace's connection `connection` (its index).
inline Classified seg(Role role, Side from, std::size_t connection = 0) {
  Classified c;
  c.roles.add(role);
  c.from = from;
  c.connection = ConnectionIndex{connection};
  return c;
}

}  // namespace lastack::test
