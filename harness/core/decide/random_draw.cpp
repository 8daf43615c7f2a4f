// Draws that replay: std::mt19937_64 (fixed by the standard) seeded through SplitMix64's mix.
#include "harness/core/decide/random_draw.hpp"

namespace lastack {

namespace {
// 2^64 / φ, SplitMix64's increment: consecutive inputs land far apart before the mix.
constexpr std::uint64_t golden_gamma = 0x9e3779b97f4a7c15ULL;
}  // namespace

std::uint64_t splitmix64_mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double unit_interval(std::uint64_t raw) { return static_cast<double>(raw >> 11) * 0x1.0p-53; }

std::uint64_t stream_seed(std::uint64_t run_seed, std::size_t fault, std::size_t scope) {
  const std::uint64_t per_fault = splitmix64_mix(run_seed + golden_gamma * (static_cast<std::uint64_t>(fault) + 1));
  return splitmix64_mix(per_fault + golden_gamma * (static_cast<std::uint64_t>(scope) + 1));
}

DrawStream::DrawStream(std::uint64_t run_seed, std::size_t fault, std::size_t scope)
    : engine_(stream_seed(run_seed, fault, scope)) {}

}  // namespace lastack
