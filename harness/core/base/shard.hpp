#pragma once
// Sharding a run across machines: `--shard I/N` keeps every N-th policy, starting at the I-th.
#include <cstddef>
#include <string_view>
#include <vector>

namespace lastack {

/// One shard of N: `index` is 1-based (1 <= index <= count), as the user writes it.
struct Shard {
  std::size_t index = 1;
  std::size_t count = 1;
};

/// Parse "I/N"; throws InputError ("--shard 4/3: I must be between 1 and N") on anything else.
Shard parse_shard(std::string_view text);

/// The positions in 0..total-1 this shard runs, in order: those with position % count == index-1.
std::vector<std::size_t> shard_indices(std::size_t total, Shard shard);

}  // namespace lastack
