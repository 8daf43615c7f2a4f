#include "harness/core/oracle/window.hpp"

#include <algorithm>
#include <set>

#include "harness/core/oracle/words/finding_words.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "harness/core/trace/pending.hpp"

namespace lastack {

std::vector<const PendingEvidence*> still_pending(const Trace& trace) {
  std::vector<const PendingEvidence*> out;
  if (trace.pending_at_end.empty()) return out;
  std::set<ConnectionIndex> connections;
  for (const WireEvent* w : wire_events(trace)) connections.insert(w->info.connection);
  for (const PendingEvidence& p : trace.pending_at_end)
    if (!p.connection || connections.empty() || connections.count(*p.connection)) out.push_back(&p);
  return out;
}

void judge_window(CheckResult& r, const Trace& trace, Openness openness) {
  const bool open = (r.outcome == Outcome::pass && openness.pass_may_break) ||
                    (r.outcome == Outcome::fail && openness.fail_may_heal);
  if (!open) return;
  const auto pending = still_pending(trace);
  if (pending.empty()) return;
  r.outcome = Outcome::not_checked;
  NotChecked why{Unjudged::window_open, {}, {}};
  for (const PendingEvidence* p : pending) why.pending.push_back(*p);
  r.finding.why_not = std::move(why);
  render_words(r);
}

}  // namespace lastack
