#pragma once
// Sequence space in words: SYNs and FINs answered at seq + len + 1 (syn-fin-consume-seq), and
// dropped segments sent again (dropped-is-retransmitted).
#include <string>

#include "lastack/finding_invariants.hpp"

namespace lastack {

/// "SYN from client seq 0 acknowledged with ack 0 (seq + len), not 1: ...", or how many were right.
std::string controls_saw(const ControlsSeen& s);

/// The drops never resent, else (when none was judged) those the trace ended too soon for, else
/// each drop's fate.
std::string drops_saw(const DropsSeen& s);

}  // namespace lastack
