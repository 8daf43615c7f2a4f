#include "harness/cli/forked_jobs.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <vector>

#include "lastack/error.hpp"
#include "harness/sys/proc/fd.hpp"

namespace lastack {

namespace {
struct Child {
  pid_t pid = -1;
  sys::UniqueFd out;
  std::string text;
};

void write_all(int fd, const std::string& text) {
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

[[noreturn]] void child_main(std::size_t i, int out, const std::function<JobOutput(std::size_t)>& job) {
  JobOutput result;
  try {
    result = job(i);
  } catch (const Error& e) {
    result = {static_cast<int>(e.code()), std::string("lastack: ") + e.what() + "\n"};
  } catch (const std::exception& e) {
    result = {static_cast<int>(ExitCode::harness), std::string("lastack: internal error: ") + e.what() + "\n"};
  }
  write_all(out, result.text);
  std::fflush(nullptr);
  ::_exit(result.exit_code);
}

Child spawn(std::size_t i, const std::function<JobOutput(std::size_t)>& job) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) sys::throw_errno("pipe");
  std::fflush(nullptr);  // nothing buffered twice
  pid_t pid = ::fork();
  if (pid < 0) sys::throw_errno("fork");
  if (pid == 0) {
    ::close(fds[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    child_main(i, fds[1], job);
  }
  ::close(fds[1]);
  Child c;
  c.pid = pid;
  c.out.reset(fds[0]);
  return c;
}

JobOutput reap(Child& c) {
  int status = 0;
  ::waitpid(c.pid, &status, 0);
  if (WIFEXITED(status)) return {WEXITSTATUS(status), std::move(c.text)};
  return {static_cast<int>(ExitCode::harness),
          c.text + "lastack: run died with signal " + std::to_string(WTERMSIG(status)) + "\n"};
}
}  // namespace

void run_forked(std::size_t count, unsigned jobs, const std::function<JobOutput(std::size_t)>& job,
                const std::function<void(std::size_t)>& started,
                const std::function<void(std::size_t, const JobOutput&)>& done) {
  std::map<std::size_t, Child> running;
  std::map<std::size_t, JobOutput> finished;
  std::size_t next = 0, delivered = 0;
  while (delivered < count) {
    while (next < count && running.size() < std::max(1u, jobs)) {
      started(next);
      running.emplace(next, spawn(next, job));
      ++next;
    }
    std::vector<pollfd> fds;
    std::vector<std::size_t> index;
    for (auto& [i, c] : running) {
      fds.push_back({c.out.get(), POLLIN, 0});
      index.push_back(i);
    }
    if (!fds.empty() && ::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) sys::throw_errno("poll");
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Child& c = running.at(index[k]);
      char buf[65536];
      ssize_t n = ::read(c.out.get(), buf, sizeof buf);
      if (n > 0) {
        c.text.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      finished.emplace(index[k], reap(c));
      running.erase(index[k]);
    }
    while (finished.count(delivered)) {
      done(delivered, finished.at(delivered));
      finished.erase(delivered);
      ++delivered;
    }
  }
}

}  // namespace lastack
