// The policy as iptables rules for the wire namespace: which segments go to userspace.
#include "harness/core/queue_rules.hpp"

#include <variant>

#include <fmt/format.h>

#include "harness/core/error.hpp"

namespace lastack {

namespace {

// Largest TCP header (data offset 15 words); a pure ACK is never longer than IP header + this.
constexpr unsigned max_tcp_header = 60;

/// Roles that a segment with payload and none of SYN/FIN/RST can carry: selecting one needs
/// every TCP segment queued, since neither the flag nor the length rules would catch it.
bool may_carry_data_without_flags(Role role) {
  switch (role) {
    case Role::data:
    case Role::retransmission:
    case Role::handshake_ack:   // the completing ACK may carry the first data
    case Role::first_fin_ack:   // the peer may still be sending when it acknowledges the FIN
      return true;
    default:
      return false;
  }
}

bool needs_all(const Selector& sel) { return !sel.segment || may_carry_data_without_flags(*sel.segment); }

}  // namespace

std::string why_every_segment(const Policy& policy, Capture capture) {
  if (capture == Capture::all) return "capture all";
  if (capture == Capture::none) return {};
  for (std::size_t i = 0; i < policy.faults.size(); ++i) {
    const FaultRule& rule = policy.faults[i];
    if (needs_all(rule.match)) return fmt::format("fault {} (line {}) can select data", i + 1, rule.line);
    if (rule.until && needs_all(*rule.until))
      return fmt::format("fault {} (line {}) waits for a segment that can carry data", i + 1, rule.line);
  }
  for (std::size_t i = 0; i < policy.lab.size(); ++i)
    if (needs_all(policy.lab[i].on))
      return fmt::format("lab action {} (line {}) is triggered by a segment that can carry data", i + 1,
                         policy.lab[i].line);
  // The oracle can only count retransmissions of segments it sees.
  for (const Expectation& e : policy.expect) {
    if (const auto* r = std::get_if<RetransmittedExpect>(&e); r && needs_all(r->segment))
      return fmt::format("the expectation at line {} counts retransmissions of data", r->line);
    // Counting is only right when every segment it could count is seen.
    if (const auto* s = std::get_if<SegmentsExpect>(&e);
        s && needs_all(s->segment) && (!s->with || may_carry_data_without_flags(*s->with)))
      return fmt::format("the expectation at line {} counts segments that can carry data", s->line);
    if (const auto* c = std::get_if<CloseExpect>(&e))
      return fmt::format("the expectation at line {} counts every segment of the close", c->line);
  }
  return {};
}

std::string compile_queue_rules(const Policy& policy, Capture capture, std::uint16_t queue_num,
                                bool ipv6) {
  const std::string queue = fmt::format("-j NFQUEUE --queue-num {}", queue_num);
  std::string script =
      "*raw\n"
      ":PREROUTING ACCEPT [0:0]\n"
      ":OUTPUT ACCEPT [0:0]\n"
      "-A PREROUTING -j CT --notrack\n"
      "-A OUTPUT -j CT --notrack\n"
      "COMMIT\n"
      "*filter\n"
      ":INPUT ACCEPT [0:0]\n"
      ":FORWARD ACCEPT [0:0]\n"
      ":OUTPUT ACCEPT [0:0]\n";
  const std::string all_reason = why_every_segment(policy, capture);
  if (capture == Capture::none) {
    // Nothing reaches userspace, so a rule that needs a segment would silently never fire.
    if (!policy.faults.empty())
      throw InputError(fmt::format("{}:{}: capture none cannot apply fault 1", policy.file, policy.faults[0].line));
    if (!policy.lab.empty())
      throw InputError(fmt::format("{}:{}: capture none cannot run lab action 1", policy.file, policy.lab[0].line));
    script += "# nothing queued: the plain routed path\n";
  } else if (!all_reason.empty()) {
    script += fmt::format("# every TCP segment: {}\n", all_reason);
    script += fmt::format("-A FORWARD -p tcp {}\n", queue);
  } else {
    const unsigned ip_header = ipv6 ? 40 : 20;
    script += "# SYN, FIN and RST segments, and short ones (pure ACKs): what the tracker and rules need\n";
    script += fmt::format("-A FORWARD -p tcp ! --tcp-flags SYN,FIN,RST NONE {}\n", queue);
    script += fmt::format("-A FORWARD -p tcp -m length --length 0:{} {}\n", ip_header + max_tcp_header, queue);
  }
  script += "COMMIT\n";
  return script;
}

}  // namespace lastack
