#include "harness/sys/proc/orphan_reaper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lastack/error.hpp"

extern char** environ;

namespace lastack::sys {

namespace {

// fd 3: the socket (a line on it: the lab ended as it should, nothing to sweep; end of file: this
// process died); fds 4...: the namespaces. The sweeping shell runs in the background, so the
// one spawned exits at once (reaped here) and init adopts the sweeper: no zombie per run. `find
// -samefile` compares device and inode, as the kernel names a namespace; a sweep repeats until no
// process is left (one may fork meanwhile).
constexpr const char* kScript = R"((
trap '' INT TERM HUP QUIT
read _ <&3 && exit 0
for i in 1 2 3 4 5 6 7 8 9 10; do
  found=
  for fd in $NS_FDS; do
    for p in $(find -L /proc/[0-9]*/ns/net -maxdepth 0 -samefile /proc/self/fd/$fd 2>/dev/null); do
      p=${p#/proc/}; kill -9 "${p%%/*}" 2>/dev/null && found=1
    done
  done
  [ -z "$found" ] && exit 0
  sleep 0.02
done
) &)";

}  // namespace

OrphanReaper::OrphanReaper(const std::vector<const NetNamespace*>& namespaces) {
  // A socket pair, not a pipe: a word to a reaper already gone is EPIPE, never SIGPIPE.
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) throw_errno("socketpair for the orphan reaper");
  UniqueFd read_end(ends[0]);
  hold_ = UniqueFd(ends[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, read_end.get(), 3);  // dup2 clears FD_CLOEXEC
  std::string fds;
  for (std::size_t i = 0; i < namespaces.size(); ++i) {
    const int to = static_cast<int>(4 + i);
    posix_spawn_file_actions_adddup2(&actions, namespaces[i]->fd(), to);
    fds += (fds.empty() ? "" : " ") + std::to_string(to);
  }
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);  // out of the terminal's process group
  const std::string ns_fds = "NS_FDS=" + fds;
  char* const argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>(kScript),
                        const_cast<char*>("lastack-orphan-reaper"), nullptr};
  std::vector<char*> env;
  for (char** e = environ; *e; ++e) env.push_back(*e);
  env.push_back(const_cast<char*>(ns_fds.c_str()));
  env.push_back(nullptr);
  pid_t pid = -1;
  const int err = ::posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (err != 0) throw HarnessError(fmt::format("cannot start the orphan reaper (/bin/sh): {}", std::strerror(err)));
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

OrphanReaper::~OrphanReaper() {
  // The lab's own sweep ran: tell the reaper so, and wait (briefly) until it let go of the
  // namespaces, so they are gone when the lab is.
  if (::send(hold_.get(), "done\n", 5, MSG_NOSIGNAL) != 5) return;
  pollfd gone{hold_.get(), POLLRDHUP, 0};  // its end closes when the reaper exits
  while (::poll(&gone, 1, 1000) < 0 && errno == EINTR) {
  }
}

}  // namespace lastack::sys
