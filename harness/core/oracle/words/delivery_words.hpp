#pragma once
// bytes-delivered in words: what each app wrote and its peer read, and what kept them apart.
#include <string>

#include "lastack/finding_invariants.hpp"

namespace lastack {

/// The reads that were not the peer's bytes, else the counts each way with what came between.
std::string delivery_saw(const DeliverySeen& s);

}  // namespace lastack
