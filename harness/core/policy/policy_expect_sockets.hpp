#pragma once
// Reading a `socket-held` expectation.
#include "lastack/policy.hpp"
#include "harness/core/policy/policy_toml.hpp"

namespace lastack::policy_toml {

/// check = "socket-held" (policy_expect_sockets.cpp): side (default any), state (default
/// CLOSE_WAIT; a name or an array), longer-than (unset: at the end of the run).
SocketHeldExpect read_socket_held(const TableReader& t);

}  // namespace lastack::policy_toml
