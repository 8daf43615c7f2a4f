#pragma once
// Reading [[expect]] tables: what the oracle checks after the run, one `check` kind per table.
#include <toml++/toml.h>

#include "lastack/policy.hpp"
#include "harness/core/policy/policy_toml.hpp"

namespace lastack::policy_toml {

/// One [[expect]] table -> Expectation of its `check` kind; throws InputError("file:line: what").
Expectation read_expect(const toml::table& table, const Problems& problems);

/// `count`, or `min` and/or `max`, each an integer in [lo, hi] (T holds them all); absent keys
/// stay unset. Throws InputError for count with a bound, or min above max.
template <typename T>
CountBound<T> read_count_bound(const TableReader& t, std::int64_t lo, std::int64_t hi);

}  // namespace lastack::policy_toml
