// retransmission-backoff in words: "F. seq 1 from server: 3 retransmissions, gaps 204 ms, 408 ms,
// 816 ms (causes: rto, rto, rto)".
#include "harness/core/oracle/words/backoff_words.hpp"

#include <chrono>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "harness/core/base/duration_text.hpp"
#include "harness/core/oracle/invariant_support.hpp"
#include "harness/core/trace/trace_query.hpp"

namespace lastack {

namespace {

// "F. seq 1 from server: 2 retransmissions, gaps 204 ms, 408 ms (first: RTO retransmission, inferred from the gaps)"
std::string chain_text(const BackoffChain& c) {
  std::string out = fmt::format("{}: {} retransmissions, gaps {}", segment_text(c.first), c.gaps.size(),
                                ms_list_text(c.gaps));
  if (!c.causes.empty()) {
    std::vector<std::string> names;
    for (const RetransmitCause cause : c.causes) names.emplace_back(retransmit_cause_name(cause));
    out += fmt::format(" (causes: {})", fmt::join(names, ", "));
  } else {
    out += fmt::format(" (first: {}, inferred from the gaps)", c.probe_first ? "tail-loss probe" : "RTO retransmission");
  }
  if (c.syn_linear) out += fmt::format("; tcp_syn_linear_timeouts {}", c.syn_linear);
  if (c.rto_max)
    out += fmt::format("; tcp_rto_max_ms {}", std::chrono::duration_cast<std::chrono::milliseconds>(*c.rto_max).count());
  if (c.problem) out += ": " + backoff_problem_text(*c.problem);
  return out;
}

}  // namespace

std::string backoff_rule_text(const BackoffRuleUsed& r) {
  switch (r.rule) {
    case BackoffRule::doubled: return "double";
    case BackoffRule::doubled_gap: return fmt::format("double gap {}", r.gap);
    case BackoffRule::capped: return fmt::format("capped at tcp_rto_max_ms ({})", ms_text(r.rto_max));
    case BackoffRule::syn_linear: return fmt::format("equal (tcp_syn_linear_timeouts {})", r.syn_linear);
    case BackoffRule::syn_linear_gap:
      return fmt::format("equal to gap {} (tcp_syn_linear_timeouts {})", r.gap, r.syn_linear);
    case BackoffRule::thin_linear: return "equal (a thin stream, tcp_thin_linear_timeouts)";
    case BackoffRule::thin_maybe: return "equal (a thin stream may keep its RTO: tcp_thin_linear_timeouts)";
  }
  return "";
}

std::string backoff_problem_text(const BackoffProblem& p) {
  switch (p.miss) {
    case BackoffMiss::gap:
      return fmt::format("gap {} is {}, not {} ({}; {})", p.gap, ms_text(p.measured), ms_text(p.nominal),
                         backoff_rule_text(p.rule), p.bound.text());
    case BackoffMiss::kept_rto:
      return fmt::format("the kernel kept its RTO at {} for retransmission {} (backoff {}), which its settings "
                         "do not allow", ms_text(p.measured), p.gap, p.backoff);
    case BackoffMiss::rto_not_doubled:
      return fmt::format("the kernel's RTO went from {} to {}, not {} ({})", ms_text(p.previous), ms_text(p.measured),
                         ms_text(p.nominal), backoff_rule_text(p.rule));
  }
  return "";
}

std::string backoff_saw(const BackoffSeen& s) {
  if (s.broken.empty() && s.kept.empty()) return "no sequence number retransmitted twice by its timer";
  std::vector<std::string> chains;
  for (const BackoffChain& c : s.broken.empty() ? s.kept : s.broken) chains.push_back(chain_text(c));
  return detail::join_some(chains);
}

}  // namespace lastack
