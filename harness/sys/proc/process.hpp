#pragma once
// Running a helper program (iptables-restore, ip, a user's app) inside a lab namespace.
#include <optional>
#include <string>
#include <vector>

#include "harness/sys/net/netns.hpp"

namespace lastack::sys {

/// How a program ended and what it printed.
struct ProcessResult {
  int exit_code = 0;   // 128 + signal number when a signal ended it
  std::string output;  // stdout and stderr, interleaved as written
};

/// Run argv (argv[0] looked up like find_program) inside `ns` with `stdin_text` as its input;
/// wait for it to end. The child dies with this process. Throws EnvironmentError when argv[0]
/// cannot be found.
ProcessResult run_in_netns(const NetNamespace& ns, const std::vector<std::string>& argv,
                           const std::string& stdin_text);

/// The full path of the first of `names` found in PATH, /usr/sbin or /sbin; a name with a
/// '/' is taken as a path. nullopt when none is an executable file.
std::optional<std::string> find_program(const std::vector<std::string>& names);

}  // namespace lastack::sys
