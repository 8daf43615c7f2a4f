#pragma once
// Small helpers the built-in invariants share (invariants.cpp, invariants_close.cpp).
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lastack/oracle.hpp"
#include "harness/core/oracle/words/finding_words.hpp"

namespace lastack::detail {

/// The built-in check `kind`, failing until judged (its name and claim rendered from its kind).
inline CheckResult builtin(CheckKind kind) {
  return judged(Finding{CheckId{kind, {}, {}}, InvariantClaim{}, SeenWords{}, {}, {}, {}}, Outcome::fail);
}

/// `r` as judged, what it saw kept as its words; one with nothing to judge says so typed.
inline CheckResult seen_as_words(CheckResult r) {
  r.finding.saw = SeenWords{r.saw};
  if (r.outcome == Outcome::not_applicable) r.finding.why_not = NotChecked{Unjudged::nothing_to_judge, r.saw, {}};
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
