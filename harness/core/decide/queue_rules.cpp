// The policy as iptables rules for the wire namespace: which segments go to userspace.
#include "harness/core/decide/queue_rules.hpp"

#include <algorithm>
#include <variant>

#include <fmt/format.h>

#include "lastack/error.hpp"

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

/// Roles a pure ACK can carry that are not already covered by needs_all: selecting one needs
/// the short segments queued (the tracker tags the first ACK covering the second FIN).
bool may_be_pure_ack(const Selector& sel) {
  return sel.segment && (*sel.segment == Role::ack || *sel.segment == Role::final_ack);
}

/// Why pure ACKs must reach userspace in selective capture; empty when no live rule (fault,
/// hold release, lab trigger) can select one. Expectations never need them: the oracle judges
/// the whole wire, which the packet capture sees whatever is queued.
std::string why_pure_acks(const Policy& policy) {
  for (std::size_t i = 0; i < policy.faults.size(); ++i) {
    const FaultRule& rule = policy.faults[i];
    if (may_be_pure_ack(rule.match)) return fmt::format("fault {} (line {}) can select one", i + 1, rule.line);
    if (rule.until && may_be_pure_ack(*rule.until))
      return fmt::format("fault {} (line {}) waits for one", i + 1, rule.line);
    if (rule.window && rule.window->after && may_be_pure_ack(*rule.window->after))
      return fmt::format("fault {} (line {}) opens its window after one", i + 1, rule.line);
  }
  for (std::size_t i = 0; i < policy.lab.size(); ++i)
    if (may_be_pure_ack(policy.lab[i].on))
      return fmt::format("lab action {} (line {}) is triggered by one", i + 1, policy.lab[i].line);
  return {};
}

}  // namespace

std::string why_every_segment(const Policy& policy, Capture capture) {
  if (capture == Capture::all) return "capture all";
  if (capture == Capture::none) return {};
  // The link delays, paces and drops every segment: none may go around it.
  if (policy.link && policy.link->active())
    return policy.link->line ? fmt::format("the [link] (line {}) carries every segment", policy.link->line)
                             : std::string("the link (--link) carries every segment");
  for (std::size_t i = 0; i < policy.faults.size(); ++i) {
    const FaultRule& rule = policy.faults[i];
    if (needs_all(rule.match)) return fmt::format("fault {} (line {}) can select data", i + 1, rule.line);
    if (rule.until && needs_all(*rule.until))
      return fmt::format("fault {} (line {}) waits for a segment that can carry data", i + 1, rule.line);
    if (rule.window && rule.window->after && needs_all(*rule.window->after))
      return fmt::format("fault {} (line {}) opens its window after a segment that can carry data", i + 1, rule.line);
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

QueueRules compile_queue_plan(const Policy& policy, Capture capture, std::uint16_t queue_num, bool ipv6) {
  QueueRules rules;
  rules.queue_num = queue_num;
  rules.ipv6 = ipv6;
  const std::string all_reason = why_every_segment(policy, capture);
  if (capture == Capture::none) {
    // Nothing reaches userspace, so a rule that needs a segment would silently never fire.
    if (!policy.faults.empty())
      throw InputError(fmt::format("{}:{}: capture none cannot apply fault 1", policy.file, policy.faults[0].line));
    if (!policy.lab.empty())
      throw InputError(fmt::format("{}:{}: capture none cannot run lab action 1", policy.file, policy.lab[0].line));
    if (policy.link && policy.link->active())
      throw InputError(fmt::format("{}:{}: capture none cannot carry the [link]", policy.file, std::max<std::size_t>(policy.link->line, 1)));
    rules.why = "nothing queued: the plain routed path";
  } else if (!all_reason.empty()) {
    rules.why = "every TCP segment: " + all_reason;
    rules.forward.push_back(QueueRule{});
  } else {
    rules.forward.push_back(QueueRule{true, std::nullopt});
    const std::string ack_reason = why_pure_acks(policy);
    if (ack_reason.empty()) {
      rules.why = "SYN, FIN and RST segments: what the tracker and rules need (no rule selects a pure ACK)";
    } else {
      const unsigned ip_header = ipv6 ? 40 : 20;
      rules.why = "SYN, FIN and RST segments, and short ones (pure ACKs): " + ack_reason;
      rules.forward.push_back(QueueRule{false, std::pair<std::uint16_t, std::uint16_t>(0, ip_header + max_tcp_header)});
    }
  }
  return rules;
}

QueueRules on_loopback(QueueRules rules, std::vector<std::uint16_t> ports) {
  rules.hook = QueueHook::input;
  rules.ports = std::move(ports);
  rules.pass_mark = kInjectedMark;
  rules.why += rules.ports.empty() ? " (at INPUT, every port)" : " (at INPUT, to or from the port given)";
  return rules;
}

namespace {
// One rule's line, after `-A CHAIN -p tcp`; `port` a `--sport N` / `--dport N` match or empty.
std::string rule_line(const std::string& chain, const QueueRule& r, const std::string& port, const std::string& queue) {
  std::string line = "-A " + chain + " -p tcp" + port;
  if (r.syn_fin_rst) line += " ! --tcp-flags SYN,FIN,RST NONE";
  if (r.length) line += fmt::format(" -m length --length {}:{}", r.length->first, r.length->second);
  return line + " " + queue + "\n";
}
}  // namespace

std::string queue_rules_script(const QueueRules& rules) {
  const std::string queue = fmt::format("-j NFQUEUE --queue-num {}", rules.queue_num);
  const std::string chain = rules.hook == QueueHook::input ? "INPUT" : "FORWARD";
  std::string script =
      "*filter\n"
      ":INPUT ACCEPT [0:0]\n"
      ":FORWARD ACCEPT [0:0]\n"
      ":OUTPUT ACCEPT [0:0]\n";
  script += "# " + rules.why + "\n";
  if (rules.pass_mark) script += fmt::format("-A {} -m mark --mark {:#x} -j ACCEPT\n", chain, *rules.pass_mark);
  for (const QueueRule& r : rules.forward) {
    if (rules.ports.empty()) script += rule_line(chain, r, "", queue);
    for (const std::uint16_t port : rules.ports) {
      script += rule_line(chain, r, fmt::format(" --sport {}", port), queue);
      script += rule_line(chain, r, fmt::format(" --dport {}", port), queue);
    }
  }
  script += "COMMIT\n";
  return script;
}

std::string compile_queue_rules(const Policy& policy, Capture capture, std::uint16_t queue_num, bool ipv6) {
  return queue_rules_script(compile_queue_plan(policy, capture, queue_num, ipv6));
}

}  // namespace lastack
