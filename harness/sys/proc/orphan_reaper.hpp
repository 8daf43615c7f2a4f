#pragma once
// The last resort for "everything a run starts ends with it": a small shell, in its own session
// and deaf to the terminal's signals, that waits for this process to let go of a socket (at the
// end of the lab, or because this process was killed, even by SIGKILL) and then SIGKILLs every
// process still inside the lab's namespaces (a daemon the run's own sweep could not reach when
// lastack itself died). It holds the namespaces open until it is done, so their identity cannot
// pass to another run's namespace meanwhile.
#include <vector>

#include "harness/sys/proc/fd.hpp"
#include "harness/sys/net/netns.hpp"

namespace lastack::sys {

/// Started with the namespaces to watch; the sweep runs when this object dies or this process does.
class OrphanReaper {
 public:
  /// Spawn /bin/sh with the namespaces; throws HarnessError when it cannot be started.
  explicit OrphanReaper(const std::vector<const NetNamespace*>& namespaces);
  /// Tell the reaper the lab ended as it should (it exits without sweeping) and wait, up to 1 s,
  /// until it has let go of the namespaces.
  ~OrphanReaper();
  OrphanReaper(const OrphanReaper&) = delete;
  OrphanReaper& operator=(const OrphanReaper&) = delete;

 private:
  UniqueFd hold_;  // our end of the socket pair: its last close is the signal
};

}  // namespace lastack::sys
