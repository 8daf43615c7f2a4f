#pragma once
// Where a run's random seed comes from when the command line and the policy give none: the OS.
// The core only ever draws from a seed it is given (decide/random_draw), so runs replay.
#include <cstdint>
#include <optional>

#include "lastack/policy.hpp"

namespace lastack {

/// 64 bits from the kernel's random pool (getrandom(2)). Throws EnvironmentError if it fails.
std::uint64_t seed_from_os();

/// The seed a run of `policy` uses: `given` (`--seed`, or the run's place in a `--repeat`), else
/// the policy's `random-seed`, else one from the OS; nullopt when none is given and no fault of
/// the policy draws (a run without chance needs no seed and prints none).
std::optional<std::uint64_t> resolve_seed(const Policy& policy, std::optional<std::uint64_t> given);

}  // namespace lastack
