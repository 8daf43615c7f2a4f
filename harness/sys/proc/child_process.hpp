#pragma once
// A child process started inside a network namespace, owned by one object: killed and reaped
// when that object dies, and killed by the kernel when the thread that started it dies
// (PR_SET_PDEATHSIG), so no run leaves a process behind, however it ends.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "harness/sys/proc/fd.hpp"
#include "harness/sys/net/netns.hpp"

namespace lastack::sys {

/// A descriptor handed to the child: our `from` becomes descriptor number `to` there.
struct InheritedFd {
  int from = -1;
  int to = -1;
};

/// Extra settings for spawn(); the defaults mean "as this process".
struct SpawnOptions {
  std::vector<std::string> environment;  // NAME=VALUE entries added to (or replacing) ours
  bool own_process_group = false;        // signal() and kill() then reach everything it started
};

/// One started program; move-only.
class ChildProcess {
 public:
  /// Fork; in the child: die with this thread, enter `ns`, put each of `fds` in place, close
  /// every other descriptor above 2 (0, 1 and 2 are inherited unless `fds` replaces them),
  /// restore default signal handling and exec `program` with `argv` (argv[0] included).
  /// Throws HarnessError when fork fails; a failed exec is exit code 127, said on its stderr.
  static ChildProcess spawn(const NetNamespace& ns, const std::string& program,
                            const std::vector<std::string>& argv, const std::vector<InheritedFd>& fds,
                            const SpawnOptions& options = {});

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  /// SIGKILL and reap, if not reaped yet.
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  /// True until it has been reaped (by wait() or kill()).
  bool running() const { return pid_ > 0; }
  /// Wait for it to end and reap it; its exit code, 128 + the signal number when a signal ended
  /// it. After reaping, returns the same code again.
  int wait();
  /// SIGKILL it unless already reaped, reap it, and return its exit code as wait() does.
  int kill();
  /// Send `sig` to it (to its whole process group when it has its own); nothing once reaped.
  void signal(int sig);
  /// A descriptor (pidfd) that turns readable when the process ends, for an event loop.
  UniqueFd exit_descriptor() const;
  /// Its exit code if it has ended, without reaping it (so its process group stays signallable).
  std::optional<int> peek_exit() const;
  /// The exit code once reaped.
  std::optional<int> exit_code() const { return exit_code_; }

 private:
  ChildProcess(pid_t pid, bool own_group) : pid_(pid), own_group_(own_group) {}
  /// kill() for destructors: never throws.
  void kill_quietly() noexcept;
  pid_t pid_ = -1;
  bool own_group_ = false;
  std::optional<int> exit_code_;
};

}  // namespace lastack::sys
