#include "harness/sys/proc/child_process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "lastack/error.hpp"
#include "harness/sys/proc/fd.hpp"
#include "harness/sys/proc/priority.hpp"

namespace lastack::sys {

namespace {

/// Everything the forked child needs, built before fork: after it, only async-signal-safe calls.
struct ExecPlan {
  int netns_fd = -1;
  pid_t parent = 0;
  const char* program = nullptr;
  std::vector<char*> argv;          // null-terminated
  std::vector<std::string> environment;
  std::vector<char*> envp;          // null-terminated, pointing into `environment`
  bool own_group = false;
  std::vector<InheritedFd> fds;     // sorted by `to`
  std::vector<int> staging;         // one slot per fd, filled in the child
  int first_free = 3;               // above every `to`: where descriptors are staged
  int nice = 0;                     // the priority lastack's caller had (priority.hpp)
};

void child_say(const char* text) {
  if (::write(STDERR_FILENO, text, std::strlen(text)) < 0) return;
}

/// The forked child: never returns.
[[noreturn]] void become(ExecPlan& plan) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != plan.parent) ::_exit(127);  // the parent died before prctl took effect
  if (plan.own_group) ::setpgid(0, 0);
  // Staged first, so a descriptor that is some entry's `to` is not overwritten before it is used.
  const int netns_fd = ::fcntl(plan.netns_fd, F_DUPFD, plan.first_free);
  if (netns_fd < 0) ::_exit(127);
  for (std::size_t i = 0; i < plan.fds.size(); ++i) {
    plan.staging[i] = ::fcntl(plan.fds[i].from, F_DUPFD, plan.first_free);
    if (plan.staging[i] < 0) ::_exit(127);
  }
  for (std::size_t i = 0; i < plan.fds.size(); ++i)
    if (::dup2(plan.staging[i], plan.fds[i].to) < 0) ::_exit(127);  // dup2 clears FD_CLOEXEC
  // After the descriptors are in place, so the message reaches the stderr the caller chose.
  if (::setns(netns_fd, CLONE_NEWNET) != 0) {
    child_say("setns into the lab namespace failed\n");
    ::_exit(127);
  }
  // No lab socket, queue or namespace leaks into the program: only the descriptors it was given.
  unsigned next = 3;
  for (const InheritedFd& fd : plan.fds) {
    const auto to = static_cast<unsigned>(fd.to);
    if (to < next) continue;
    if (to > next) ::close_range(next, to - 1, 0);
    next = to + 1;
  }
  ::close_range(next, ~0U, 0);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::setpriority(PRIO_PROCESS, 0, plan.nice);  // the user's program runs at the caller's priority
  ::execve(plan.program, plan.argv.data(), plan.envp.data());
  child_say("exec failed: ");
  child_say(plan.program);
  child_say("\n");
  ::_exit(127);
}

// `environ` with `extra` NAME=VALUE entries added, each replacing ours of the same name.
std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
  auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  std::vector<std::string> out(extra);
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    if (std::none_of(extra.begin(), extra.end(), [&](const std::string& x) { return name_of(x) == name_of(entry); }))
      out.push_back(std::move(entry));
  }
  return out;
}

int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

ChildProcess ChildProcess::spawn(const NetNamespace& ns, const std::string& program,
                                 const std::vector<std::string>& argv, const std::vector<InheritedFd>& fds,
                                 const SpawnOptions& options) {
  if (argv.empty()) throw HarnessError("spawn " + program + ": empty command line");
  ExecPlan plan;
  plan.netns_fd = ns.fd();
  plan.parent = ::getpid();
  plan.nice = caller_nice();
  plan.program = program.c_str();
  for (const std::string& arg : argv) plan.argv.push_back(const_cast<char*>(arg.c_str()));
  plan.argv.push_back(nullptr);
  plan.environment = merged_environment(options.environment);
  for (std::string& entry : plan.environment) plan.envp.push_back(entry.data());
  plan.envp.push_back(nullptr);
  plan.own_group = options.own_process_group;
  plan.fds = fds;
  std::sort(plan.fds.begin(), plan.fds.end(), [](const InheritedFd& a, const InheritedFd& b) { return a.to < b.to; });
  plan.staging.resize(plan.fds.size(), -1);
  for (const InheritedFd& fd : plan.fds) {
    if (fd.from < 0 || fd.to < 0) throw HarnessError("spawn " + program + ": invalid descriptor to hand over");
    plan.first_free = std::max(plan.first_free, fd.to + 1);
  }

  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) become(plan);
  // Also here, so a signal sent right after spawn() already reaches the group (the child may not have run yet).
  if (plan.own_group) ::setpgid(pid, pid);
  return ChildProcess(pid, plan.own_group);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), own_group_(other.own_group_), exit_code_(other.exit_code_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    kill_quietly();
    pid_ = std::exchange(other.pid_, -1);
    own_group_ = other.own_group_;
    exit_code_ = other.exit_code_;
  }
  return *this;
}

ChildProcess::~ChildProcess() { kill_quietly(); }

void ChildProcess::kill_quietly() noexcept {
  if (!running()) return;
  signal(SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  exit_code_ = exit_code_of(status);
}

int ChildProcess::wait() {
  if (!running()) {
    if (exit_code_) return *exit_code_;
    throw HarnessError("wait for a child process that was never started");
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) throw_errno("waitpid");
  }
  pid_ = -1;
  exit_code_ = exit_code_of(status);
  return *exit_code_;
}

int ChildProcess::kill() {
  if (running()) signal(SIGKILL);
  return wait();
}

void ChildProcess::signal(int sig) {
  if (!running()) return;
  // Before reaping, the group cannot vanish (its leader is at least a zombie), so -pid is ours.
  if (own_group_ && ::kill(-pid_, sig) == 0) return;
  ::kill(pid_, sig);
}

std::optional<int> ChildProcess::peek_exit() const {
  if (!running()) return exit_code_;
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0)
    return std::nullopt;
  return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
}

UniqueFd ChildProcess::exit_descriptor() const {
  if (!running()) throw HarnessError("pidfd for a child process that is not running");
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (fd < 0) throw_errno("pidfd_open");
  return UniqueFd(fd);
}

}  // namespace lastack::sys
