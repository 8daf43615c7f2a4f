#pragma once
// How Linux spaces the timer retransmissions of one segment, under the sender's own settings:
// each waits double the one before (icsk_backoff), capped at tcp_rto_max_ms; the first
// tcp_syn_linear_timeouts of an active open do not double; with tcp_thin_linear_timeouts a thin
// stream's first six in ESTABLISHED do not either. Traced, the kernel says which it did (its RTO
// and backoff at each retransmission) and the model checks that; sampled, the gaps are judged.
#include <optional>
#include <string>
#include <vector>

#include "lastack/finding_invariants.hpp"
#include "lastack/oracle.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// Linux's default ceiling for the retransmission timer (TCP_RTO_MAX).
inline constexpr std::chrono::milliseconds tcp_rto_max{120000};

/// The RTO ceiling `side` ran with: net.ipv4.tcp_rto_max_ms in force, else TCP_RTO_MAX.
Duration rto_max_of(const Trace& trace, Side side);

/// One gap judged against the rule for it.
struct GapVerdict {
  bool ok = true;
  BackoffRuleUsed rule;                   // double, capped at tcp_rto_max_ms, kept by tcp_syn_linear_timeouts ...
  std::optional<BackoffProblem> problem;  // when not ok: how, with the bound
};

/// Gap `g` (>= 1) of `chain` (a segment and its timer retransmissions, in order; gaps[g] lies
/// between chain[g] and chain[g + 1]) against the rule the sender's settings and, traced, the
/// kernel's own RTO and backoff give it.
GapVerdict judge_gap(const Trace& trace, const std::vector<const WireEvent*>& chain,
                     const std::vector<Duration>& gaps, std::size_t g);

}  // namespace lastack
