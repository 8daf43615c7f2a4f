// A run's seed: given, the policy's, or the kernel's random pool.
#include "harness/engine/run_seed.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "harness/core/decide/decision.hpp"
#include "lastack/error.hpp"

namespace lastack {

std::uint64_t seed_from_os() {
  std::uint64_t seed = 0;
  ssize_t n = -1;
  do n = ::getrandom(&seed, sizeof seed, 0);
  while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof seed))
    throw EnvironmentError(fmt::format("getrandom: no random seed from the kernel: {}", std::strerror(errno)));
  return seed;
}

std::optional<std::uint64_t> resolve_seed(const Policy& policy, std::optional<std::uint64_t> given) {
  if (given) return given;
  if (!draws_at_random(policy)) return std::nullopt;
  if (policy.scenario.random_seed) return policy.scenario.random_seed;
  return seed_from_os();
}

}  // namespace lastack
