#pragma once
// Whether a trace's window is closed: an absence or an exact count is only as good as the
// window it was judged over, and a run its timeout cut short may have ended with the kernel or
// the lab still about to add evidence (Trace::pending_at_end).
#include <string>
#include <vector>

#include "lastack/oracle.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// What was still pending at the end that belongs to this trace: the lab's (no connection) and
/// that of each connection its wire shows (all of it when the wire shows none). A per-connection
/// slice gets its own connection's.
std::vector<const PendingEvidence*> still_pending(const Trace& trace);

/// What more evidence could do to a verdict: break a pass (an absence, an exact count, an end
/// state) or heal a failure (a count still short, a state not reached yet).
struct Openness {
  bool pass_may_break = false;
  bool fail_may_heal = false;
};

/// A verdict the pending evidence could still change becomes "not checked", naming what was
/// pending and when it was due; one it cannot change stands.
void judge_window(CheckResult& r, const Trace& trace, Openness openness);

}  // namespace lastack
