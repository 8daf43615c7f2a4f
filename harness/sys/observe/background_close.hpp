#pragma once
// Closing a descriptor off the caller's path. A packet socket's close waits out two RCU grace
// periods (packet_set_ring and packet_release each call synchronize_net): 20-40 ms on a 2-core
// VM at HZ=250, more than the rest of a run's setup and teardown together.
#include "harness/sys/proc/fd.hpp"

namespace lastack::sys {

/// Close `fd` on a helper thread and return at once. At most four such closes are in flight
/// (each may hold kernel memory, a packet ring); a fifth waits for one of them. Every one has
/// finished before the process exits normally. In a forked child (which has none of the
/// parent's threads) the close is done in place.
void close_in_background(UniqueFd fd);

}  // namespace lastack::sys
