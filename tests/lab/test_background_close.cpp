// Closing off the caller's path (sys/background_close.hpp): every descriptor handed over is
// closed, even many at once (at most four in flight), and a forked child closes in place.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "harness/sys/observe/background_close.hpp"

using namespace lastack;
using sys::UniqueFd;

namespace {

struct Pipe {
  UniqueFd read, write;
};

Pipe make_pipe() {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Whether every writer of the pipe is closed within 10 s: read() then returns 0 (end of file).
bool reaches_eof(const UniqueFd& read_end) {
  pollfd pfd{read_end.get(), POLLIN, 0};
  if (::poll(&pfd, 1, 10'000) != 1) return false;
  char byte = 0;
  return ::read(read_end.get(), &byte, 1) == 0;
}

}  // namespace

TEST_CASE("a descriptor closed in the background is closed: its pipe's reader sees end of file") {
  Pipe p = make_pipe();
  sys::close_in_background(std::move(p.write));
  CHECK_FALSE(p.write.valid());
  CHECK(reaches_eof(p.read));
}

TEST_CASE("ten closes handed over at once all happen (four in flight, the rest wait their turn)") {
  std::vector<Pipe> pipes;
  for (int i = 0; i < 10; ++i) pipes.push_back(make_pipe());
  for (Pipe& p : pipes) sys::close_in_background(std::move(p.write));
  for (Pipe& p : pipes) CHECK(reaches_eof(p.read));
}

TEST_CASE("a forked child closes in place, before close_in_background returns") {
  Pipe p = make_pipe();
  sys::close_in_background(UniqueFd(::dup(p.read.get())));  // the parent's state exists before the fork
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Exit 0 only if the descriptor is gone the moment the call returns (no helper thread here).
    const int raw = p.write.get();
    sys::close_in_background(std::move(p.write));
    ::_exit(::fcntl(raw, F_GETFD) == -1 && errno == EBADF ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
