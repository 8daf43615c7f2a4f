#pragma once
// How a program of the user's ended, as a check: lastack exec's client command exits 0
// (command-exit), lastack wrap's command ends by itself, an in-process function returns without
// an exception (function-ended).
#include "lastack/oracle.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// command-exit: the client command's last event ended ok (exit 0); fails when it did otherwise
/// or never ended.
CheckResult check_command_exit(const Trace& trace);

/// the command ends (lastack wrap): the wrapped command ended by itself; fails when it never
/// ended or the run's timeout came first (lastack ended it: its status then is not its own).
CheckResult check_command_ended(const Trace& trace);

/// function-ended: `side`'s in-process function returned by itself, without an exception; the
/// server's may also end because the run stopped it. Fails when it threw or never ended.
CheckResult check_function_ended(const Trace& trace, Side side);

}  // namespace lastack
