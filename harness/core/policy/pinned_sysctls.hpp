#pragma once
// The kernel settings the lab pins in both endpoint namespaces before any socket exists.
//
// A new network namespace takes most net.ipv4.tcp_* values from the kernel's built-in defaults,
// and those change between kernels (tcp_syn_linear_timeouts appeared in 6.x; tail-loss probes
// come and go with tcp_early_retrans), while a few (tcp_congestion_control, tcp_max_tw_buckets)
// leak in from the host. Every mechanism a shipped policy's outcome depends on is therefore set
// here to a stated value; a policy's own [sysctl.*] settings override it.
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace lastack {

/// One pinned setting.
struct PinnedSysctl {
  std::string_view name;   // "net.ipv4.tcp_early_retrans"
  std::string_view value;  // what the lab writes
  std::string_view why;    // one line: which outcome depends on it
  // The value a kernel without this setting behaves as (it predates the knob and hard-codes
  // that behaviour); nullopt when no older behaviour is equivalent to any value.
  std::optional<std::string_view> absent_behaves_as;
};

/// Every pinned setting, in a fixed order.
std::span<const PinnedSysctl> pinned_sysctls();

/// The pinned entry named `name`, or nullptr.
const PinnedSysctl* find_pinned_sysctl(std::string_view name);

/// True when a kernel that lacks `pin` still runs with its pinned value (see absent_behaves_as).
bool absent_is_pinned_value(const PinnedSysctl& pin);

/// What a trace records for a pinned setting this kernel does not have: "absent (this kernel
/// predates it and behaves as V)", or "absent on this kernel" when no value is equivalent.
std::string absent_sysctl_text(const PinnedSysctl& pin);

}  // namespace lastack
