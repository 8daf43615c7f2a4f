#pragma once
// Small helpers the built-in invariants share (invariants.cpp, invariants_close.cpp).
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lastack/oracle.hpp"
#include "harness/core/oracle/words/finding_words.hpp"

namespace lastack::detail {

/// The built-in check `kind`'s finding, its observation still to fill in.
inline Finding builtin(CheckKind kind) {
  return Finding{CheckId{kind, {}, {}}, InvariantClaim{}, NothingSeen{}, {}, {}, {}};
}

/// A built-in's result, judged `outcome`; one with nothing to judge says so typed.
inline CheckResult judged_builtin(Finding f, Outcome outcome) {
  if (outcome == Outcome::not_applicable && !f.why_not) f.why_not = NotChecked{Unjudged::nothing_to_judge, {}, {}};
  return judged(std::move(f), outcome);
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
