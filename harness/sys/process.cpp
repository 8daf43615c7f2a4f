#include "harness/sys/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "harness/core/error.hpp"

namespace lastack::sys {

namespace {

bool is_executable_file(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::vector<std::string> search_directories() {
  std::vector<std::string> directories;
  const char* path = std::getenv("PATH");
  std::string remaining = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  // sbin is often missing from an unprivileged PATH, yet that is where iptables lives.
  remaining += ":/usr/sbin:/sbin";
  std::size_t start = 0;
  while (start <= remaining.size()) {
    const std::size_t end = std::min(remaining.find(':', start), remaining.size());
    if (end > start) directories.push_back(remaining.substr(start, end - start));
    start = end + 1;
  }
  return directories;
}

/// Write a message to fd from the forked child, where only async-signal-safe calls are allowed.
void child_write(int fd, const char* text) {
  if (::write(fd, text, std::strlen(text)) < 0) return;
}

/// The forked child: enter the namespace, wire up stdin/stdout/stderr, exec. Never returns.
[[noreturn]] void exec_child(int netns_fd, pid_t parent, int input, int output, const char* program,
                             char* const* argv) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
  if (::setns(netns_fd, CLONE_NEWNET) != 0) {
    child_write(output, "setns into the lab namespace failed\n");
    ::_exit(127);
  }
  if (::dup2(input, STDIN_FILENO) < 0 || ::dup2(output, STDOUT_FILENO) < 0 || ::dup2(output, STDERR_FILENO) < 0)
    ::_exit(127);
  ::close_range(3, ~0U, 0);  // no lab socket or queue leaks into the helper
  sigset_t all;
  ::sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::execv(program, argv);
  child_write(STDERR_FILENO, "exec failed: ");
  child_write(STDERR_FILENO, program);
  child_write(STDERR_FILENO, "\n");
  ::_exit(127);
}

/// Feed `input_text` to `input` and collect `output` until the child closes it, without
/// deadlocking when the child writes before it has read everything.
std::string exchange_with_child(UniqueFd input, UniqueFd output, const std::string& input_text) {
  std::string collected;
  std::size_t sent = 0;
  if (input_text.empty()) input.reset();
  char chunk[4096];
  while (output.valid()) {
    pollfd fds[2] = {{output.get(), POLLIN, 0}, {input.get(), POLLOUT, 0}};
    if (::poll(fds, input.valid() ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll a helper program's pipes");
    }
    if (input.valid() && fds[1].revents != 0) {
      // MSG_NOSIGNAL: a child that exits early must not kill us with SIGPIPE.
      const ssize_t wrote = ::send(input.get(), input_text.data() + sent, input_text.size() - sent,
                                   MSG_NOSIGNAL | MSG_DONTWAIT);
      if (wrote > 0) sent += static_cast<std::size_t>(wrote);
      if (wrote < 0 && errno != EINTR && errno != EAGAIN) input.reset();  // it stopped reading
      if (sent == input_text.size()) input.reset();                        // EOF for the child
    }
    if (fds[0].revents != 0) {
      const ssize_t got = ::read(output.get(), chunk, sizeof chunk);
      if (got > 0) collected.append(chunk, static_cast<std::size_t>(got));
      if (got == 0 || (got < 0 && errno != EINTR)) output.reset();
    }
  }
  return collected;
}

int wait_for_exit(pid_t child) {
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) throw_errno("wait for a helper program");
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

std::optional<std::string> find_program(const std::vector<std::string>& names) {
  const std::vector<std::string> directories = search_directories();
  for (const std::string& name : names) {
    if (name.find('/') != std::string::npos) {
      if (is_executable_file(name)) return name;
      continue;
    }
    for (const std::string& directory : directories) {
      const std::string candidate = directory + "/" + name;
      if (is_executable_file(candidate)) return candidate;
    }
  }
  return std::nullopt;
}

ProcessResult run_in_netns(const NetNamespace& ns, const std::vector<std::string>& argv,
                           const std::string& stdin_text) {
  if (argv.empty()) throw HarnessError("run_in_netns: empty command line");
  const std::optional<std::string> program = find_program({argv[0]});
  if (!program) throw EnvironmentError(argv[0] + " not found in PATH, /usr/sbin or /sbin");

  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<char*> child_argv;
  for (const std::string& arg : argv) child_argv.push_back(const_cast<char*>(arg.c_str()));
  child_argv.push_back(nullptr);

  // A socket pair rather than a pipe for stdin, so writing can use MSG_NOSIGNAL.
  int input_pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, input_pair) != 0) throw_errno("socketpair for stdin");
  UniqueFd input_ours(input_pair[0]), input_theirs(input_pair[1]);
  int output_pipe[2];
  if (::pipe2(output_pipe, O_CLOEXEC) != 0) throw_errno("pipe for output");
  UniqueFd output_ours(output_pipe[0]), output_theirs(output_pipe[1]);

  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) throw_errno("fork");
  if (child == 0)
    exec_child(ns.fd(), parent, input_theirs.get(), output_theirs.get(), program->c_str(), child_argv.data());

  input_theirs.reset();
  output_theirs.reset();
  ProcessResult result;
  try {
    result.output = exchange_with_child(std::move(input_ours), std::move(output_ours), stdin_text);
  } catch (...) {
    ::kill(child, SIGKILL);  // no orphan left running, no zombie left unreaped
    wait_for_exit(child);
    throw;
  }
  result.exit_code = wait_for_exit(child);
  return result;
}

}  // namespace lastack::sys
