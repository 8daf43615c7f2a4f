#pragma once
// The harness's own CPU priority: its interceptor is part of the wire, so a starved harness
// would delay segments no policy asked to delay (and make a run race the ISN clock or a timer).

namespace lastack::sys {

/// Lower this process's nice value by 10 (higher priority) where it may (root: CAP_SYS_NICE);
/// otherwise leave it as it is. Idempotent. Programs it starts get caller_nice() back.
void raise_harness_priority();

/// The nice value this process had before raise_harness_priority (its current one otherwise).
int caller_nice();

}  // namespace lastack::sys
