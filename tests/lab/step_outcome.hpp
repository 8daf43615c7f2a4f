#pragma once
// Lab-test helper: an agent step's outcome without its time, comparable and printable.
#include <cstdint>
#include <ostream>
#include <string>

namespace lastack::test {

/// What one step reported, without the time.
struct Outcome {
  std::string step, outcome;
  std::uint64_t bytes = 0;
  bool operator==(const Outcome&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{" << o.step << ": " << o.outcome << ", " << o.bytes << " bytes}";
}

}  // namespace lastack::test
