// check = "reset", received-by = "client": the kernel's own word that a RST was accepted.
#include "harness/core/oracle/expect/expectations_reset_received.hpp"

#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/oracle/window.hpp"
#include "harness/core/oracle/words/finding_words.hpp"

namespace lastack {

using namespace detail;

CheckResult check_reset_received(const Trace& trace, const ResetExpect& x) {
  CountClaim claim;
  claim.accepted = true;
  if (x.count) claim.bound.count = *x.count;
  else claim.bound.min = 1;
  Finding f{CheckId{CheckKind::reset, side_subject(trace, SideRef(*x.received_by)), {}}, claim, NothingSeen{}, {}, {}, {}};
  if (trace.kernel_source != KernelSource::traced) {
    f.why_not = NotChecked{Unjudged::no_kernel_events, {}, {}};
    return judged(std::move(f), Outcome::not_checked, x.line);
  }
  if (wire_events(trace).empty()) {  // no connection: the kernel had nothing to accept or refuse
    f.why_not = NotChecked{Unjudged::nothing_on_wire, {}, {}};
    return judged(std::move(f), Outcome::not_checked, x.line);
  }
  ResetsAccepted seen;
  for (const TraceEvent& ev : trace.events)
    if (const auto* k = std::get_if<KernelReset>(&ev); k && !k->sent && k->side == *x.received_by)
      seen.accepted.push_back(*k);
  const std::size_t n = seen.accepted.size();
  f.saw = std::move(seen);
  CheckResult r = judged(std::move(f), outcome_of(x.count ? n == *x.count : n > 0), x.line);
  judge_window(r, trace, {x.count.has_value(), x.count ? n < *x.count : n == 0});
  return r;
}

}  // namespace lastack
