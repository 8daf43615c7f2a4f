#include "harness/sys/proc/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "lastack/error.hpp"
#include "harness/sys/proc/child_process.hpp"

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

  // A socket pair rather than a pipe for stdin, so writing can use MSG_NOSIGNAL.
  int input_pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, input_pair) != 0) throw_errno("socketpair for stdin");
  UniqueFd input_ours(input_pair[0]), input_theirs(input_pair[1]);
  int output_pipe[2];
  if (::pipe2(output_pipe, O_CLOEXEC) != 0) throw_errno("pipe for output");
  UniqueFd output_ours(output_pipe[0]), output_theirs(output_pipe[1]);

  ChildProcess child = ChildProcess::spawn(ns, *program, argv,
                                          {{input_theirs.get(), STDIN_FILENO},
                                           {output_theirs.get(), STDOUT_FILENO},
                                           {output_theirs.get(), STDERR_FILENO}});
  input_theirs.reset();
  output_theirs.reset();
  ProcessResult result;
  // Should this throw, `child` is killed and reaped: no orphan left running, no zombie.
  result.output = exchange_with_child(std::move(input_ours), std::move(output_ours), stdin_text);
  result.exit_code = child.wait();
  return result;
}

}  // namespace lastack::sys
