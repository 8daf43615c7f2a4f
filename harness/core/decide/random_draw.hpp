#pragma once
// The run's randomness: one seed per run, one stream of draws per probabilistic fault (and per
// connection when faults count per connection), each draw a number in [0, 1) made from the raw
// 64-bit output of std::mt19937_64, whose output the C++ standard fixes, so a seed replays the
// same decisions on any standard library (std::uniform_real_distribution is not so fixed).
#include <cstddef>
#include <cstdint>
#include <random>

namespace lastack {

/// SplitMix64's finalizer (Steele, Lea and Flood, 2014): a fixed 64-bit mix, to derive a
/// stream's seed from the run's seed and the stream's place.
std::uint64_t splitmix64_mix(std::uint64_t z);

/// The raw 64-bit output as a number in [0, 1): its top 53 bits over 2^53 (exact in a double).
double unit_interval(std::uint64_t raw);

/// The seed of fault `fault`'s stream (0-based, file order) in counting scope `scope` (its
/// connection, 0-based, when faults count per connection; else 0), from the run's seed.
std::uint64_t stream_seed(std::uint64_t run_seed, std::size_t fault, std::size_t scope);

/// One fault's draws, in the order its candidate segments come.
class DrawStream {
 public:
  /// The stream of `fault` in `scope` under `run_seed` (stream_seed).
  DrawStream(std::uint64_t run_seed, std::size_t fault, std::size_t scope);
  /// The next draw, in [0, 1).
  double next() { return unit_interval(engine_()); }

 private:
  std::mt19937_64 engine_;
};

}  // namespace lastack
