// The echo server's own test suite, written as an app developer would: lastack's in-process API
// runs the real server (Asio) and a real client (POSIX sockets) in the lab, the client's FIN is
// lost once on the wire, and the policy checks that no server socket is left in CLOSE_WAIT.
// Built twice (CMakeLists.txt): against the fixed server it passes; against the leaky one it
// fails, naming the socket the server never closed.
// main() is examples/lab_main.cpp's: it enters lab privileges, then runs these tests.
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>
#include <system_error>

#include "examples/leaky_server/echo_server.hpp"
#include "lastack/lastack.hpp"

namespace {

constexpr const char* kHalfClose = R"(
name = "echo-half-close"
summary = "The client sends a line and half-closes; the server must echo it and close its side too"

[scenario]
client = ["connect"]  # not run: the in-process API runs the test's own client and server
server = ["accept"]
settle = "300ms"

[[fault]]
segment = "first-fin"  # the client's FIN is lost once: the server reads EOF from its retransmission
from = "client"
nth = 1
action = "drop"

[[expect]]
check = "retransmitted"
segment = "first-fin"
from = "client"

[[expect]]
check = "socket-held"  # the bug this suite exists for: a server socket never closed
side = "server"
state = "CLOSE_WAIT"
)";

// What the client read.
struct ClientSaw {
  std::string echoed;
  bool eof = false;
};

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

// Send a line, half-close (our FIN), read the echo and wait up to 1 s for the server's EOF.
void half_closing_client(const lastack::LabSide& s, ClientSaw& saw) {
  const auto& server = s.server_endpoint();
  const int fd = ::socket(server.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("socket");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::connect(fd, server.data(), server.size()) != 0) throw_errno("connect");
  const std::string line = "hello\n";
  if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) throw_errno("send");
  if (::shutdown(fd, SHUT_WR) != 0) throw_errno("shutdown");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd readable{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&readable, 1, static_cast<int>(left.count())) == 0) return;  // no EOF in time
    char buffer[256];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("recv");
    if (n == 0) {
      saw.eof = true;
      return;
    }
    saw.echoed.append(buffer, static_cast<std::size_t>(n));
  }
}

// Every failed check on one line each, unwrapped, for the test's output.
std::string failed_checks(const lastack::RunResult& result) {
  std::string out;
  for (const lastack::CheckResult& c : result.results)
    if (c.outcome == lastack::Outcome::fail) out += "FAILED: " + c.name + ": " + c.saw + "\n";
  return out;
}

}  // namespace

TEST_CASE("the echo server closes its side after the client half-closes, even when the FIN is lost once",
          "[echo]") {
  const auto policy = lastack::parse_policy(kHalfClose, "echo_server_test.cpp");
  ClientSaw saw;
  const auto result = lastack::run_policy(
      policy, {},
      lastack::InProcess{.server =
                             [](const lastack::LabSide& s) {
                               echo::EchoServer server(s.io(), s.server_endpoint());
                               s.io().run();  // until lastack stops it at the end of the run
                             },
                         .client = [&saw](const lastack::LabSide& s) { half_closing_client(s, saw); }});
  // Unwrapped on stdout (Catch2 wraps its messages at 80 columns): what failed, one line each.
  std::fputs(failed_checks(result).c_str(), stdout);
  INFO(lastack::render_verdicts(result.results));
  CHECK(saw.echoed == "hello\n");
  CHECK(saw.eof);
  REQUIRE(result.passed());
}
