#pragma once
// `socket-held`: no socket of a side left in, or held too long in, the given states.
#include "lastack/oracle.hpp"
#include "lastack/policy.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// No socket of a side is left in (or held longer than a time in) the given states
/// (expectations_sockets.cpp).
CheckResult check_socket_held(const Trace& trace, const SocketHeldExpect& expect);

}  // namespace lastack
