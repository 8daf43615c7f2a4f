#pragma once
// Which segments the wire namespace sends to userspace: the policy compiled to iptables rules.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lastack/capture.hpp"
#include "lastack/policy.hpp"

namespace lastack {

/// Where the queue rules sit: wire's FORWARD chain (two veths, the segment routed through), or
/// INPUT for `lastack wrap`'s one namespace, where each loopback segment passes OUTPUT and then
/// INPUT: queued at INPUT only, it is queued once, after lo's xmit orphaned it from its socket
/// (a held segment does not count against the sender's TCP small queues, as on a veth).
enum class QueueHook : std::uint8_t { forward, input };

/// One NFQUEUE rule in wire's FORWARD chain: a TCP segment matching every set field is queued.
struct QueueRule {
  bool syn_fin_rst = false;  // it carries SYN, FIN or RST (`! --tcp-flags SYN,FIN,RST NONE`)
  // its IP packet's length is within [first, second] bytes (`-m length`): short ones are pure ACKs
  std::optional<std::pair<std::uint16_t, std::uint16_t>> length;
  bool operator==(const QueueRule&) const = default;
};

/// What the wire namespace's filter table holds: conntrack stays off because no rule needs it
/// (its hooks register in a namespace only for a rule that does), and nothing else is loaded.
struct QueueRules {
  std::uint16_t queue_num = 0;
  bool ipv6 = false;
  std::string why;               // one line: why these segments (a comment in the script)
  std::vector<QueueRule> forward;  // in order; none: nothing is queued
  QueueHook hook = QueueHook::forward;  // the chain the rules go in (the field keeps its name)
  // Only segments to or from one of these ports (each rule twice: --sport, then --dport);
  // empty: any port.
  std::vector<std::uint16_t> ports;
  // Segments carrying this mark are accepted before any queue rule (`-m mark --mark M -j
  // ACCEPT`): lastack's own (kInjectedMark), which on loopback would otherwise come back
  // through INPUT's queue and be decided (and logged) a second time.
  std::optional<std::uint32_t> pass_mark;
};

/// The mark (SO_MARK) on every segment lastack injects under `lastack wrap`: lo keeps an skb's
/// mark from OUTPUT to INPUT, so INPUT's first rule lets them by unqueued.
inline constexpr std::uint32_t kInjectedMark = 0x1a57ac4b;

/// `rules` moved to INPUT, for segments to or from `ports` (empty: all), lastack's own
/// (kInjectedMark) let by: `lastack wrap`'s loopback.
QueueRules on_loopback(QueueRules rules, std::vector<std::uint16_t> ports);

/// Why every TCP segment must be queued ("capture all", "fault 1 (line 12) can select data", ...);
/// empty when selective capture suffices.
std::string why_every_segment(const Policy& policy, Capture capture);

/// The NFQUEUE rules in FORWARD on `queue_num`, for IPv4 (`ipv6` false) or IPv6 (true).
/// Selective capture queues SYN/FIN/RST, and pure ACKs only when a rule can select one.
/// Fail closed: no --queue-bypass, so segments are never let through unexamined.
/// Capture::none gives no NFQUEUE rule; it throws InputError for a policy with faults or lab actions.
QueueRules compile_queue_plan(const Policy& policy, Capture capture, std::uint16_t queue_num, bool ipv6);

/// `rules` as an iptables-restore script (what sys::load_queue_rules loads, for reading and tests).
std::string queue_rules_script(const QueueRules& rules);

/// queue_rules_script(compile_queue_plan(...)).
std::string compile_queue_rules(const Policy& policy, Capture capture, std::uint16_t queue_num,
                                bool ipv6);

}  // namespace lastack
