#pragma once
// The processes inside a network namespace, found by /proc/PID/ns/net, whatever route started
// them (fork, setsid, a double fork that daemonized): a run ends every one of them with itself.
#include <sys/types.h>

#include <string>
#include <vector>

#include "harness/sys/net/netns.hpp"

namespace lastack::sys {

/// One process whose network namespace is the one asked about.
struct NamespaceProcess {
  pid_t pid = 0;
  std::string command;  // /proc/PID/comm
};

/// Every process (thread-group leader) in `ns` except this one, in pid order. Processes this
/// user may not inspect are left out (they cannot be ours).
std::vector<NamespaceProcess> processes_in(const NetNamespace& ns);

/// SIGKILL every process in `ns` except this one, repeating until none is left or `attempts`
/// sweeps have run (a process may fork while being swept); returns those it signalled.
std::vector<NamespaceProcess> end_processes_in(const NetNamespace& ns, int attempts = 20);

}  // namespace lastack::sys
