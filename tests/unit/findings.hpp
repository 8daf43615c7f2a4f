#pragma once
// Typed access to a check's finding in tests: the claim or observation a test expects, or a
// failed REQUIRE naming the check.
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

#include "lastack/oracle.hpp"

namespace lastack::testing {

/// What `r` saw, as the observation `T`; fails the test when it saw something else.
template <typename T>
const T& seen(const CheckResult& r) {
  const T* s = std::get_if<T>(&r.finding.saw);
  INFO(r.name << " saw: " << r.saw);
  REQUIRE(s != nullptr);
  return *s;
}

/// What `r` expected, as the claim `T`; fails the test when it claimed something else.
template <typename T>
const T& claim(const CheckResult& r) {
  const T* c = std::get_if<T>(&r.finding.expected);
  INFO(r.name << " expected: " << r.expected);
  REQUIRE(c != nullptr);
  return *c;
}

/// Why `r` could not look; fails the test when it could.
inline Unjudged why_not(const CheckResult& r) {
  INFO(r.name << " saw: " << r.saw);
  REQUIRE(r.finding.why_not.has_value());
  return r.finding.why_not->reason;
}

/// When each of `segments` was on the wire.
inline std::vector<Instant> times_of(const std::vector<WireEvent>& segments) {
  std::vector<Instant> out;
  for (const WireEvent& w : segments) out.push_back(w.at);
  return out;
}

}  // namespace lastack::testing
