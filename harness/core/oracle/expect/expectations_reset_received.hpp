#pragma once
// check = "reset" with received-by: the RSTs a side's kernel accepted, on the kernel's word.
#include "lastack/oracle.hpp"
#include "lastack/policy.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// How many RSTs `x.received_by`'s kernel accepted (tcp:tcp_receive_reset: KernelReset with
/// sent = false): at least one, or exactly `x.count`. Not checked without traced kernel events
/// (a sampled run has no word of the kernel's on a received RST).
CheckResult check_reset_received(const Trace& trace, const ResetExpect& x);

}  // namespace lastack
