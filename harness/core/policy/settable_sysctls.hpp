#pragma once
// The sysctls a policy may set, and what lastack's built-in checks make of each. A setting the
// checks do not model could make a true claim fail or a false one pass (a retransmission that
// no longer doubles, an ACK delayed past the window the run waits for), so it is refused.
#include <span>
#include <string_view>

namespace lastack {

/// One setting a policy may change, and how the checks account for it.
struct SettableSysctl {
  std::string_view name;   // "net.ipv4.tcp_rto_max_ms"
  std::string_view model;  // one line: what the checks do with it (docs/design.md lists them all)
};

/// Every setting a policy may change, in a fixed order.
std::span<const SettableSysctl> settable_sysctls();

/// The entry named `name`, or nullptr: a policy setting anything else is refused.
const SettableSysctl* find_settable_sysctl(std::string_view name);

}  // namespace lastack
