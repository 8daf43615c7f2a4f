// The in-process lab API: the test's own sockets (POSIX and Asio) in the lab's namespaces, under a
// policy's faults, with the trace and verdicts of a run; exceptions and functions that ignore the
// stop request are recorded, never hang the run, and never pass.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "lastack/error.hpp"
#include "lastack/policy_parser.hpp"
#include "lastack/report.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "lastack/in_process.hpp"
#include "lastack/policy_library.hpp"

namespace lastack {
namespace {

using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

const CheckResult& check_named(const RunResult& r, std::string_view name) {
  const auto it = std::find_if(r.results.begin(), r.results.end(),
                               [&](const CheckResult& c) { return c.name.rfind(name, 0) == 0; });
  INFO("no check named " << name << "\n" << render_verdicts(r.results));
  REQUIRE(it != r.results.end());
  return *it;
}

const AppEvent* function_event(const Trace& t, Side side) {
  for (const TraceEvent& ev : t.events)
    if (const auto* a = std::get_if<AppEvent>(&ev); a && a->side == side && a->command()) return a;
  return nullptr;
}

// A blocking POSIX server: accept one connection, read to EOF, close; it waits in poll() on its
// socket and on the stop descriptor, so the run's stop request always reaches it. (No Catch2
// assertions on the functions' threads: Catch2 v2 is not thread-safe.)
void posix_server(const LabSide& s) {
  const int listener = ::socket(s.server_endpoint().protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) throw std::runtime_error("socket failed");
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listener, s.server_endpoint().data(), s.server_endpoint().size()) != 0 || ::listen(listener, 8) != 0)
    throw std::runtime_error("bind/listen failed");
  const auto wait = [&s](int fd) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {s.stop_fd(), POLLIN, 0}};
    ::poll(fds, 2, -1);
    return (fds[0].revents & POLLIN) != 0 && !s.stopping();
  };
  if (wait(listener)) {
    const int peer = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    char buffer[4096];
    while (peer >= 0 && wait(peer) && ::recv(peer, buffer, sizeof buffer, 0) > 0) {
    }
    if (peer >= 0) ::close(peer);
  }
  ::close(listener);
}

// An Asio client: connect, send 1000 bytes, close (the client closes first).
void asio_client(const LabSide& s) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(s.server_endpoint());
  asio::write(socket, asio::buffer(std::string(1000, 'x')));
  socket.shutdown(tcp::socket::shutdown_send);
  boost::system::error_code eof;
  std::string rest;
  asio::read(socket, asio::dynamic_buffer(rest), eof);
}

Policy inline_policy(const std::string& extra) {
  return parse_policy("name = \"in-process\"\nsummary = \"t\"\n[scenario]\nclient = [\"connect\"]\n"
                      "server = [\"accept\"]\nsettle = \"200ms\"\n" + extra,
                      "inline");
}

}  // namespace

TEST_CASE("in-process: a POSIX server and an Asio client under drop-final-ack: the fault fires, the verdicts pass",
          "[in-process]") {
  const Policy policy = load_policy("drop-final-ack", policy_dir(LASTACK_POLICY_DIR));
  std::string client_address;
  Side side = Side::server;
  const RunResult r = run_policy(policy, {}, InProcess{.server = posix_server, .client = [&](const LabSide& s) {
                                                         client_address = s.client_address();
                                                         side = s.side();
                                                         asio_client(s);
                                                       }});
  INFO(render_ladder(r.trace) << render_verdicts(r.results));
  CHECK(r.verdict == RunVerdict::pass);
  CHECK(client_address == "198.18.1.2");
  CHECK(side == Side::client);
  const auto wires = wire_events(r.trace);
  CHECK(std::any_of(wires.begin(), wires.end(), [](const WireEvent* w) {
    return w->fate == Fate::dropped && w->info.roles.has(Role::final_ack);
  }));
  CHECK(check_named(r, "retransmitted second-fin from second-closer (server)").passed());
  CHECK(check_named(r, "client function returned").saw == "returned");
  const AppEvent* server = function_event(r.trace, Side::server);
  REQUIRE(server != nullptr);
  CHECK(server->result == StepResult::ok);  // it returned by itself, after the client's FIN
}

TEST_CASE("in-process: over IPv6 the sides get the lab's IPv6 addresses", "[in-process]") {
  RunOptions options;
  options.ipv6 = true;
  std::string server_address, client_address;
  const RunResult r = run_policy(inline_policy(""), options, InProcess{.server = posix_server, .client = [&](const LabSide& s) {
                                                                          server_address = s.server_address();
                                                                          client_address = s.client_address();
                                                                          asio_client(s);
                                                                        }});
  INFO(render_verdicts(r.results));
  CHECK(server_address == "fd00:2::2");
  CHECK(client_address == "fd00:1::2");
  CHECK(r.verdict == RunVerdict::pass);
}

TEST_CASE("in-process: an exception in the client is in the trace and fails the run, not rethrown", "[in-process]") {
  const RunResult r = run_policy(inline_policy(""), {}, InProcess{.server = posix_server, .client = [](const LabSide& s) {
                                                                   asio_client(s);
                                                                   throw std::runtime_error("the reply was wrong");
                                                                 }});
  INFO(render_verdicts(r.results));
  CHECK(r.verdict == RunVerdict::fail);
  CHECK(check_named(r, "client function returned").outcome == Outcome::fail);
  CHECK(check_named(r, "client function returned").saw == "threw: the reply was wrong");
  const AppEvent* client = function_event(r.trace, Side::client);
  REQUIRE(client != nullptr);
  CHECK(client->result == StepResult::error);
}

TEST_CASE("in-process: a server blocked in accept() that ignores the stop request is shut down, not waited on",
          "[in-process]") {
  const auto started = std::chrono::steady_clock::now();
  const RunResult r = run_policy(inline_policy(""), {},
                                 InProcess{.server =
                                               [](const LabSide& s) {
                                                 const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                                                 ::bind(fd, s.server_endpoint().data(), s.server_endpoint().size());
                                                 ::listen(fd, 8);
                                                 std::vector<int> peers;  // kept open: CLOSE_WAIT after the FIN
                                                 for (;;) {  // never looks at stopping(): only shutdown() ends this
                                                   const int peer = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
                                                   if (peer < 0) break;
                                                   peers.push_back(peer);
                                                 }
                                                 for (int peer : peers) ::close(peer);
                                                 ::close(fd);
                                               },
                                           .client = [](const LabSide& s) {  // connects and leaves
                                             asio::io_context io;
                                             tcp::socket socket(io);
                                             socket.connect(s.server_endpoint());
                                           }});
  const auto took = std::chrono::steady_clock::now() - started;
  INFO(render_verdicts(r.results));
  CHECK(took < 5s);  // stop grace 1 s, then the shutdown wakes accept() at once
  const CheckResult& server = check_named(r, "server function ended without an exception");
  CHECK(server.outcome == Outcome::fail);
  // The listener, and the accepted socket unless the function closed it first (a race).
  CHECK(server.saw.rfind("ignored the stop request for 1 s; returned after lastack shut down its ", 0) == 0);
  CHECK(r.verdict == RunVerdict::fail);
}

TEST_CASE("in-process: a client blocked past the policy's timeout ends the run, its socket shut down",
          "[in-process]") {
  const Policy policy = inline_policy("timeout = \"1500ms\"\n");
  const RunResult r = run_policy(policy, {}, InProcess{.server = [](const LabSide& s) {
                                                         tcp::acceptor acceptor(s.io(), s.server_endpoint());
                                                         tcp::socket peer = acceptor.accept();
                                                         s.wait_for_stop(10s);  // holds it open, never writes
                                                       },
                                                       .client = [](const LabSide& s) {
                                                         asio::io_context io;
                                                         tcp::socket socket(io);
                                                         socket.connect(s.server_endpoint());
                                                         char byte;
                                                         boost::system::error_code ec;
                                                         socket.read_some(asio::buffer(&byte, 1), ec);  // blocks
                                                       }});
  INFO(render_verdicts(r.results));
  CHECK(r.verdict == RunVerdict::fail);
  CHECK(check_named(r, "run finished").outcome == Outcome::fail);
  const CheckResult& client = check_named(r, "client function returned");
  CHECK(client.outcome == Outcome::fail);
  CHECK(client.saw.rfind("ignored the stop request for 1 s; returned after lastack shut down its", 0) == 0);
  CHECK(check_named(r, "server function ended without an exception").passed());  // io().run() returned when stopped
}

TEST_CASE("in-process: a server that throws before listening is an error naming the exception", "[in-process]") {
  try {
    run_policy(inline_policy(""), {},
               InProcess{.server = [](const LabSide&) { throw std::runtime_error("no config file"); },
                         .client = asio_client});
    FAIL("run_policy returned");
  } catch (const HarnessError& e) {
    CHECK(std::string(e.what()) == "the in-process server did not listen on 8080: its function threw \"no config file\" first");
  }
  CHECK_THROWS_AS(run_policy(inline_policy(""), {}, InProcess{.server = posix_server}), InputError);
}

TEST_CASE("in-process: app expectations are not checked, never passed", "[in-process]") {
  const Policy policy = inline_policy("[[expect]]\ncheck = \"app\"\nside = \"client\"\nsees = \"eof\"\n");
  const RunResult r = run_policy(policy, {}, InProcess{.server = posix_server, .client = asio_client});
  INFO(render_verdicts(r.results));
  CHECK(r.verdict == RunVerdict::inconclusive);
  const auto app = std::find_if(r.results.begin(), r.results.end(),
                                [](const CheckResult& c) { return c.finding.check.kind == CheckKind::app; });
  REQUIRE(app != r.results.end());
  CHECK(app->outcome == Outcome::not_checked);
  REQUIRE(app->finding.why_not);
  CHECK_THAT(app->finding.why_not->detail, Catch::Matchers::Contains("the code is yours"));
}

}  // namespace lastack
