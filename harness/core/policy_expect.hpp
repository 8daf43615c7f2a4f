#pragma once
// Reading [[expect]] tables: what the oracle checks after the run, one `check` kind per table.
#include <toml++/toml.h>

#include "harness/core/policy.hpp"
#include "harness/core/policy_toml.hpp"

namespace lastack::policy_toml {

/// One [[expect]] table -> Expectation of its `check` kind; throws InputError("file:line: what").
Expectation read_expect(const toml::table& table, const Problems& problems);

/// check = "socket-held" (policy_expect_sockets.cpp): side (default any), state (default
/// CLOSE_WAIT; a name or an array), longer-than (unset: at the end of the run).
SocketHeldExpect read_socket_held(const TableReader& t);

/// check = "counter" (policy_expect_counters.cpp): side (required), name ("Group.Name",
/// required), count or min and/or max.
CounterExpect read_counter(const TableReader& t);

}  // namespace lastack::policy_toml
