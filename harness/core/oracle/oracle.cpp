// The oracle's entry points: built-in invariants first, then the policy's expectations.
#include "lastack/oracle.hpp"

#include "harness/core/oracle/cross_examination.hpp"

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>
#include <type_traits>
#include <variant>

#include "harness/core/oracle/close_order.hpp"
#include "harness/core/oracle/expect/expectations.hpp"
#include "harness/core/oracle/invariants.hpp"
#include "harness/core/oracle/per_connection.hpp"
#include "harness/core/base/duration_text.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "harness/core/oracle/checks.hpp"
#include "harness/core/oracle/words/finding_words.hpp"

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

std::string_view outcome_key(Outcome o) {
  switch (o) {
    case Outcome::pass: return "pass";
    case Outcome::fail: return "fail";
    case Outcome::not_checked: return "not-checked";
    case Outcome::not_applicable: return "not-applicable";
  }
  return "fail";
}

std::optional<Outcome> outcome_from_key(std::string_view key) {
  for (Outcome o : {Outcome::pass, Outcome::fail, Outcome::not_checked, Outcome::not_applicable})
    if (outcome_key(o) == key) return o;
  return std::nullopt;
}

std::string_view verdict_label(RunVerdict v) {
  switch (v) {
    case RunVerdict::pass: return "PASS";
    case RunVerdict::fail: return "FAIL";
    case RunVerdict::inconclusive: return "INCONCLUSIVE";
  }
  return "FAIL";
}

namespace {

// A policy with checks of its own, none of which applies (under exec, only what lastack's agents
// would report): nothing it claims was judged.
bool none_of_its_own_applies(const std::vector<CheckResult>& results) {
  bool own = false;
  for (const CheckResult& r : results) {
    if (r.builtin) continue;
    if (r.outcome != Outcome::not_applicable) return false;
    own = true;
  }
  return own;
}

}  // namespace

RunVerdict run_verdict(const std::vector<CheckResult>& results) {
  bool unchecked = none_of_its_own_applies(results);
  for (const CheckResult& r : results) {
    if (r.outcome == Outcome::fail) return RunVerdict::fail;
    if (!r.builtin && r.outcome == Outcome::not_checked) unchecked = true;
  }
  return unchecked ? RunVerdict::inconclusive : RunVerdict::pass;
}

std::vector<std::string> unchecked_reasons(const std::vector<CheckResult>& results) {
  std::vector<std::string> out;
  if (none_of_its_own_applies(results)) out.emplace_back("none of the policy's own checks applies");
  for (const CheckResult& r : results)
    if (!r.builtin && r.outcome == Outcome::not_checked)
      out.push_back(fmt::format("{} (line {}): {}", r.name, r.line, r.saw));
  return out;
}

Duration timer_wheel_slack(Duration timeout, std::chrono::microseconds jiffy) {
  if (jiffy.count() <= 0) jiffy = std::chrono::microseconds(4000);
  // kernel/time/timer.c: level n holds deltas below LVL_START(n + 1) = 63 * 8^n jiffies, with a
  // granularity of 8^n. The delta is from the wheel's clock, which trails jiffies by a tick while
  // a due timer's softirq has not run: the timeout in whole jiffies, rounded up, plus one.
  if (timeout < Duration::zero()) timeout = Duration::zero();
  const auto jiffies = static_cast<std::uint64_t>((timeout + jiffy - Duration(1)) / jiffy) + 1;
  std::uint64_t granularity = 1, level_end = 63;
  while (jiffies >= level_end && granularity < (1ull << 30)) {
    granularity *= 8;
    level_end *= 8;
  }
  return jiffy * static_cast<std::int64_t>(granularity);
}

TimingBound timing_bound(const Trace& trace, Duration timeout, bool with_rtt) {
  TimingBound b;
  const Duration resolution = trace.wire_resolution;
  b.timer = timer_wheel_slack(timeout, trace.jiffy);
  if (with_rtt) b.rtt = measured_rtt(trace).value_or(Duration{});
  // A timer armed mid-jiffy expires on a jiffy edge: up to one jiffy early in real time.
  b.resolution = resolution;
  b.host = trace.host_latency;
  b.early = Duration(trace.jiffy) + resolution;
  b.late = b.timer + b.rtt + b.host + resolution;
  return b;
}

TimingBound doubling_bound(const Trace& trace, Duration previous, int factor) {
  const TimingBound now = timing_bound(trace, factor * previous, false);
  const TimingBound before = timing_bound(trace, previous, false);
  TimingBound b = now;
  b.early = now.early + factor * before.late;
  b.late = now.late + factor * before.early;
  b.timer = now.timer + factor * before.timer;
  b.resolution = now.resolution + factor * before.resolution;
  b.host = now.host + factor * before.host;
  return b;
}

TimingBound with_timer_lateness(TimingBound b, Duration late, Duration previous_late, int factor) {
  b.late += late;
  b.early += factor * previous_late;
  b.kernel += late + factor * previous_late;
  return b;
}

bool TimingBound::admits(Duration gap, Duration nominal) const {
  return gap + early >= nominal && gap <= nominal + late;
}

std::vector<CheckResult> check_invariants(const Trace& trace, const Policy& policy) {
  return {
      check_syn_fin_consume_seq(trace),          check_dropped_is_retransmitted(trace),
      check_retransmission_backoff(trace),       check_legal_states(trace),
      check_timewait_only_active_closers(trace), check_bytes_delivered(trace, policy),
      check_harness_queue_drops(trace),         check_harness_errors(trace),
      check_sources_agree(trace),
  };
}

namespace {
// A static_assert that only fires when its branch is instantiated.
template <typename>
inline constexpr bool always_false = false;
}  // namespace

namespace {
// One expectation, its sides already concrete (or resolved by close_order.hpp).
CheckResult check_kind(const Trace& trace, const Expectation& expect) {
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
        else if constexpr (std::is_same_v<T, SocketHeldExpect>)
          return check_socket_held(trace, x);
        else if constexpr (std::is_same_v<T, CounterExpect>)
          return check_counter(trace, x);
        else
          static_assert(always_false<T>, "check_expectation misses an Expectation kind");
      },
      expect);
}
}  // namespace

CheckResult check_expectation(const Trace& trace, const Expectation& expect) {
  if (!names_close_order(expect)) return check_kind(trace, expect);
  // first-closer / second-closer: resolved per connection from the whole trace. When no FIN
  // names the closer, the check still says what it would have judged, and that it could not.
  std::optional<Trace> copy;
  CheckResult r = check_kind(with_first_closers(trace, copy), expect);
  if (auto why = close_order_unknown(trace, expect)) {
    r.outcome = Outcome::not_checked;
    r.finding.why_not = NotChecked{Unjudged::closer_unknown, *why, {}};
    render_words(r);
  }
  return r;
}

std::vector<CheckResult> run_oracle(const Trace& trace, const Policy& policy) {
  auto results = check_invariants(trace, policy);
  for (CheckResult& r : check_expectations(trace, policy.expect)) results.push_back(std::move(r));
  return results;
}

}  // namespace lastack
