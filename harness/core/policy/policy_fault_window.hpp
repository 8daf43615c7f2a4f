#pragma once
// Reading a [[fault]]'s `window`: when, on the run's clock, the fault is active.
#include "lastack/policy.hpp"
#include "harness/core/policy/policy_toml.hpp"

namespace lastack::policy_toml {

/// How a window looks, for error hints.
inline constexpr std::string_view window_example = "{ from = \"2s\", for = \"3s\" }";

/// The fault table `fault`'s `window = { from, for, after }`; nullopt when absent. A window that
/// can never open (from at or past the run's `timeout`, for = 0) or says nothing is an error.
std::optional<FaultWindow> read_fault_window(const TableReader& fault, Millis timeout);

}  // namespace lastack::policy_toml
