#pragma once
// Small helpers the built-in invariants share (invariants.cpp, invariants_close.cpp).
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lastack/oracle.hpp"

namespace lastack::detail {

/// A built-in check named `name`, failing until judged.
inline CheckResult builtin(std::string name, std::string expected) {
  CheckResult r;
  r.name = std::move(name);
  r.builtin = true;
  r.expected = std::move(expected);
  return r;
}

/// The first few items, then how many more: a failure line stays readable.
inline std::string join_some(const std::vector<std::string>& items, std::size_t max = 3) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max; ++i) {
    if (!out.empty()) out += "; ";
    out += items[i];
  }
  if (items.size() > max) out += fmt::format("; and {} more", items.size() - max);
  return out;
}

}  // namespace lastack::detail
