// The oracle's entry points: built-in invariants first, then the policy's expectations.
#include "harness/core/oracle.hpp"

#include <algorithm>
#include <type_traits>
#include <variant>

#include "harness/core/expectations.hpp"
#include "harness/core/invariants.hpp"

namespace lastack {

std::string_view outcome_label(Outcome o) {
  switch (o) {
    case Outcome::pass: return "PASS";
    case Outcome::fail: return "FAIL";
    case Outcome::not_checked: return "NOT CHECKED";
    case Outcome::not_applicable: return "N/A";
  }
  return "?";
}

Duration gap_tolerance(Duration expected) {
  // Timer slack and sock_diag sampling jitter are a few ms; long gaps drift proportionally.
  return std::max<Duration>(std::chrono::milliseconds(15), expected * 15 / 100);
}

std::vector<CheckResult> check_invariants(const Trace& trace, const Policy& /*policy*/) {
  return {
      check_syn_fin_consume_seq(trace),          check_dropped_is_retransmitted(trace),
      check_retransmission_backoff(trace),       check_legal_states(trace),
      check_timewait_only_active_closers(trace), check_bytes_delivered(trace),
      check_harness_queue_drops(trace),         check_harness_errors(trace),
  };
}

namespace {
// A static_assert that only fires when its branch is instantiated.
template <typename>
inline constexpr bool always_false = false;
}  // namespace

CheckResult check_expectation(const Trace& trace, const Expectation& expect) {
  return std::visit(
      [&trace](const auto& x) -> CheckResult {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, RetransmittedExpect>)
          return check_retransmitted(trace, x);
        else if constexpr (std::is_same_v<T, StateExpect>)
          return check_state(trace, x);
        else if constexpr (std::is_same_v<T, ResetExpect>)
          return check_reset(trace, x);
        else if constexpr (std::is_same_v<T, AppExpect>)
          return check_app(trace, x);
        else if constexpr (std::is_same_v<T, TimeWaitExpect>)
          return check_timewait(trace, x);
        else if constexpr (std::is_same_v<T, SegmentsExpect>)
          return check_segments(trace, x);
        else if constexpr (std::is_same_v<T, CloseExpect>)
          return check_close(trace, x);
        else if constexpr (std::is_same_v<T, ConnectionsExpect>)
          return check_connections(trace, x);
        else
          static_assert(always_false<T>, "check_expectation misses an Expectation kind");
      },
      expect);
}

std::vector<CheckResult> run_oracle(const Trace& trace, const Policy& policy) {
  auto results = check_invariants(trace, policy);
  for (const Expectation& e : policy.expect) results.push_back(check_expectation(trace, e));
  return results;
}

}  // namespace lastack
