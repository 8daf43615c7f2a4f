#pragma once
// The oracle: built-in TCP invariants plus the policy's expectations, checked over a trace.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lastack/finding.hpp"
#include "lastack/policy.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// "PASS", "FAIL", "NOT CHECKED", "N/A".
std::string_view outcome_label(Outcome o);

/// One check's verdict: its typed finding, and the finding in words a person can act on
/// (rendered from the finding by the oracle's words; read back as words from a recording).
struct CheckResult {
  std::string name;      // "retransmitted second-fin from server", "syn-fin-consume-seq"
  bool builtin = false;  // a built-in invariant rather than a policy [[expect]]
  Outcome outcome = Outcome::fail;
  std::string expected;  // "a retransmission about 1 RTO (204 ms) after the original"
  std::string saw;       // "retransmitted once, 211 ms later, same seq 1001"; for not_checked: why
  std::size_t line = 0;  // the [[expect]] line, 0 for built-ins
  // Set when a failure here is the lab's, not the kernel's (its sources disagree): the run proves
  // nothing, exit 4.
  std::optional<HarnessCause> harness;
  Finding finding;  // what the check found, typed (empty in a verdict read back from a recording)

  /// True only for Outcome::pass.
  bool passed() const { return outcome == Outcome::pass; }
};

/// pass when `ok`, else fail.
inline Outcome outcome_of(bool ok) { return ok ? Outcome::pass : Outcome::fail; }
/// "pass", "fail", "not-checked", "not-applicable": the JSON spelling.
std::string_view outcome_key(Outcome o);
/// The reverse of outcome_key; nullopt for anything else.
std::optional<Outcome> outcome_from_key(std::string_view key);

/// A run's verdict: fail if any check failed; inconclusive if none failed but one of the policy's
/// own expectations was not checked; else pass.
enum class RunVerdict : std::uint8_t { pass, fail, inconclusive };
/// "PASS", "FAIL", "INCONCLUSIVE".
std::string_view verdict_label(RunVerdict v);
/// The verdict over a run's checks (a built-in that is not checked or not applicable never
/// makes a run inconclusive: only the policy's expectations do; a policy none of whose own
/// expectations applies is inconclusive too, having had nothing of its own judged).
RunVerdict run_verdict(const std::vector<CheckResult>& results);
/// The policy's expectations that were not checked, each as "name (line N): why" (first, when
/// none of them applies, "none of the policy's own checks applies").
std::vector<std::string> unchecked_reasons(const std::vector<CheckResult>& results);

/// How late a kernel timer of `timeout` fires at most: Linux's timer wheel puts it on the level
/// whose granularity is 8^n jiffies (level 0: deltas under 63 jiffies, granularity 1 jiffy; the
/// delta is the timeout rounded up to jiffies, plus one for the wheel's clock trailing jiffies)
/// and fires it at that level's next tick, so up to one granule (<= 12.5 % beyond level 0) late.
Duration timer_wheel_slack(Duration timeout, std::chrono::microseconds jiffy);

/// The bound for a gap of nominal `timeout` in `trace`: early = one jiffy + the wire's time
/// resolution; late = timer_wheel_slack + the measured round trip (when `with_rtt`: the timer
/// was armed when an ACK arrived, not when the segment left) + the host's latency + the wire's
/// resolution.
TimingBound timing_bound(const Trace& trace, Duration timeout, bool with_rtt = true);

/// The bound for a gap expected to be `factor` times the measured gap before it (backoff: 2;
/// linear SYN timeouts: 1): the earlier gap's own error scales with it.
TimingBound doubling_bound(const Trace& trace, Duration previous, int factor);

/// `b` widened by what the kernel measured itself: the gap's closing retransmission ran `late`
/// after its timer expired (later), and the gap it is compared with ended `previous_late` after
/// its own (a backoff gap: earlier, `factor` times that).
TimingBound with_timer_lateness(TimingBound b, Duration late, Duration previous_late = {}, int factor = 0);

/// The one way to judge a trace: every verdict a run gives it, in order: a failed "run finished"
/// check first when the run hit its timeout, then the built-in invariants, then each [[expect]]
/// of the policy in file order (one result per connection for an expectation judged on each of
/// several connections).
std::vector<CheckResult> judge_trace(const Trace& trace, const Policy& policy);

}  // namespace lastack
