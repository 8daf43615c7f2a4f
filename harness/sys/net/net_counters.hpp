#pragma once
// The kernel's SNMP counters of one network namespace: /proc/net/netstat and /proc/net/snmp as
// a thread inside that namespace sees them (parsed by include/lastack/netstat.hpp).
#include <optional>
#include <string>
#include <string_view>

#include "lastack/netstat.hpp"
#include "harness/sys/net/netns.hpp"

namespace lastack::sys {

/// The text of /proc/thread-self/net/`file` ("netstat", "snmp") in `ns`, read by this thread
/// from inside `ns`; nullopt when it cannot be read. (/proc/self/net is the thread-group
/// leader's namespace, not this thread's: only thread-self follows setns.)
std::optional<std::string> read_proc_net(const NetNamespace& ns, std::string_view file);

/// Every counter of `ns`'s /proc/net/netstat and /proc/net/snmp now; nullopt when either file
/// cannot be read or is not in the kernel's shape.
std::optional<CounterSnapshot> read_net_counters(const NetNamespace& ns);

}  // namespace lastack::sys
