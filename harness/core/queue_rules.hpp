#pragma once
// Which segments the wire namespace sends to userspace: the policy compiled to iptables rules.
#include <cstdint>
#include <string>

#include "harness/core/policy.hpp"

namespace lastack {

enum class Capture : std::uint8_t {
  all,        // the default: every TCP segment through one queue, so verdicts keep the wire's order
  selective,  // only segments a fault rule or the flow tracker needs (SYN/FIN/RST, pure ACKs, and data
              // only when a rule selects data): unqueued data can overtake a queued segment still
              // in userspace (~100 µs), which the whole-wire capture reports as a harness error
  none,       // nothing: the plain routed veth path, for benchmarks (fault-free policies only)
};

/// Why every TCP segment must be queued ("capture all", "fault 1 (line 12) can select data", ...);
/// empty when selective capture suffices.
std::string why_every_segment(const Policy& policy, Capture capture);

/// An iptables-restore script for the wire namespace: conntrack off (raw NOTRACK) and
/// NFQUEUE rules in FORWARD on `queue_num`, for IPv4 (`ipv6` false) or IPv6 (true).
/// Fail closed: no --queue-bypass, so segments are never let through unexamined.
/// Capture::none gives no NFQUEUE rule; it throws InputError for a policy with faults or lab actions.
std::string compile_queue_rules(const Policy& policy, Capture capture, std::uint16_t queue_num,
                                bool ipv6);

}  // namespace lastack
