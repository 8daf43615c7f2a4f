#pragma once
// Loading the wire namespace's queue rules straight into the kernel (the legacy xtables
// setsockopt interface iptables-legacy-restore uses), without running a program: one table
// replace per run instead of a fork and exec of iptables-restore (about 10-20 ms on a busy host).
#include "harness/core/decide/queue_rules.hpp"
#include "harness/sys/net/netns.hpp"

namespace lastack::sys {

/// Replace `ns`'s filter table (ip6tables' for rules.ipv6) with `rules`: INPUT, FORWARD and
/// OUTPUT accept by default, and FORWARD holds one `-p tcp ... -j NFQUEUE --queue-num N` per
/// rule (no --queue-bypass: a segment nobody reads is dropped). What iptables-legacy-save then
/// prints matches queue_rules_script(rules) without its comment.
/// Throws EnvironmentError when the kernel refuses (no CAP_NET_ADMIN, a match it lacks).
void load_queue_rules(const NetNamespace& ns, const QueueRules& rules);

}  // namespace lastack::sys
