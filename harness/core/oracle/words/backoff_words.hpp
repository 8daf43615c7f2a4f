#pragma once
// retransmission-backoff in words: each chain's gaps, the rule a gap broke, with its bound.
#include <string>

#include "lastack/finding_invariants.hpp"

namespace lastack {

/// "double", "capped at tcp_rto_max_ms (1000 ms)", "equal to gap 1 (tcp_syn_linear_timeouts 4)".
std::string backoff_rule_text(const BackoffRuleUsed& r);

/// "gap 3 is 500 ms, not 816 ms (double gap 2; bound ...)", "the kernel kept its RTO at ...".
std::string backoff_problem_text(const BackoffProblem& p);

/// The chains that broke their rule, else those that kept it, else that none was judged.
std::string backoff_saw(const BackoffSeen& s);

}  // namespace lastack
