// check = "reset", received-by = "client": the kernel's own word that a RST was accepted.
#include "harness/core/oracle/expect/expectations_reset_received.hpp"

#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/core/base/duration_text.hpp"
#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/oracle/window.hpp"

namespace lastack {

using namespace detail;

CheckResult check_reset_received(const Trace& trace, const ResetExpect& x) {
  const std::string who(side_name(*x.received_by));
  const bool none = x.count == 0u;
  CheckResult r = expectation(none ? "no RST accepted by " + who : "reset received by " + who, x.line);
  r.expected = none      ? fmt::format("the {}'s kernel accepts no RST", who)
               : x.count ? fmt::format("the {}'s kernel accepts exactly {}", who, counted(*x.count, "RST"))
                         : fmt::format("the {}'s kernel accepts at least one RST", who);
  if (trace.kernel_source != KernelSource::traced) {
    r.outcome = Outcome::not_checked;
    r.saw = "no kernel tracepoints in this run: a received RST has no word of the kernel's";
    return r;
  }
  if (wire_events(trace).empty()) {  // no connection: the kernel had nothing to accept or refuse
    r.outcome = Outcome::not_checked;
    r.saw = "nothing on the wire";
    return r;
  }
  std::vector<std::string> seen;
  for (const TraceEvent& ev : trace.events)
    if (const auto* k = std::get_if<KernelReset>(&ev); k && !k->sent && k->side == *x.received_by)
      seen.push_back(fmt::format("in {} at {}", state_name(k->state), ms_text(k->at)));
  r.outcome = outcome_of(x.count ? seen.size() == *x.count : !seen.empty());
  r.saw = seen.empty() ? fmt::format("the {}'s kernel accepted no RST (tcp_receive_reset)", who)
                       : fmt::format("{} accepted (tcp_receive_reset): {}", counted(seen.size(), "RST"), join(seen));
  judge_window(r, trace, {x.count.has_value(), x.count ? seen.size() < *x.count : seen.empty()});
  return r;
}

}  // namespace lastack
