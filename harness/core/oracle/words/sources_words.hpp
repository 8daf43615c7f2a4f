#pragma once
// sources-agree in words: the facts the kernel's events, counters, samples and the wire disagree on.
#include <string>
#include <vector>

#include "lastack/finding_invariants.hpp"

namespace lastack {

/// "client retransmissions: Tcp.RetransSegs - TcpExt.TCPRetransFail +3; the kernel's ...: 2"
std::string disagreement_text(const SourcesDisagree& d);

/// Why there was nothing to compare, that they agree, or the harness error naming each disagreement.
std::string sources_saw(const SourcesSeen& s);

}  // namespace lastack
