// The agents against real kernel TCP: a server and a client agent over 127.0.0.1 inside one
// network namespace, on one io_context.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "step_outcome.hpp"
#include "agents/agent.hpp"
#include "agents/outcome_name.hpp"
#include "lastack/error.hpp"
#include "lastack/asio.hpp"
#include "harness/sys/net/netns.hpp"
#include "harness/sys/net/rtnetlink.hpp"

namespace lastack {
namespace {

using namespace std::chrono_literals;

/// The one namespace these tests share, with `lo` up.
const sys::NetNamespace& lab_namespace() {
  static const sys::NetNamespace ns = [] {
    auto created = sys::NetNamespace::create();
    sys::Rtnetlink::open_in(created).set_up("lo");
    return created;
  }();
  return ns;
}

/// A fresh port per connection, so no test meets another's TIME_WAIT or listener.
std::uint16_t fresh_port() {
  static std::uint16_t next = 20000;
  return next++;
}

Step make_step(StepKind kind, std::string text, std::uint64_t bytes = 0, Millis duration = 0ms) {
  Step step;
  step.kind = kind;
  step.bytes = bytes;
  step.duration = duration;
  step.text = std::move(text);
  return step;
}
Step connect_step() { return make_step(StepKind::connect, "connect"); }
Step accept_step() { return make_step(StepKind::accept, "accept"); }
Step send_step(std::uint64_t n) { return make_step(StepKind::send, "send " + std::to_string(n), n); }
Step recv_step(std::uint64_t n) { return make_step(StepKind::recv, "recv " + std::to_string(n), n); }
Step recv_until_eof_step() { return make_step(StepKind::recv_until_eof, "recv-until-eof"); }
Step shutdown_write_step() { return make_step(StepKind::shutdown_write, "shutdown-write"); }
Step close_step() { return make_step(StepKind::close, "close"); }
Step abort_step() { return make_step(StepKind::abort, "abort"); }
Step sleep_step(Millis d) { return make_step(StepKind::sleep, "sleep " + std::to_string(d.count()) + "ms", 0, d); }
Step exit_step() { return make_step(StepKind::exit, "exit"); }

using test::Outcome;

/// Agents on one io_context in the lab namespace, with the events each one reported.
class AgentRun {
 public:
  AgentRun() : start_(std::chrono::steady_clock::now()) {}

  /// Add an agent for `side` on 127.0.0.1:`port`.
  Agent& add(Side side, std::vector<Step> steps, std::uint16_t port) {
    AgentConfig config;
    config.side = side;
    config.steps = std::move(steps);
    config.endpoint = {asio::ip::make_address_v4("127.0.0.1"), port};
    config.in_namespace = [](const std::function<void()>& fn) { sys::in_netns(lab_namespace(), fn); };
    config.now = [this] { return now(); };
    auto& side_events = events[side];
    config.on_event = [&side_events](const AppEvent& e) { side_events.push_back(e); };
    agents_.push_back(std::make_unique<Agent>(io_, std::move(config)));
    return *agents_.back();
  }

  /// Prepare every agent, start them all, and run until all are done (or `limit` passed, when
  /// everything is stopped). Returns how many agents called on_done.
  int run(std::chrono::milliseconds limit = 5s) {
    for (auto& agent : agents_) agent->prepare();
    int finished = 0;
    for (auto& agent : agents_) agent->start([&finished] { ++finished; });
    asio::steady_timer deadline(io_, limit);
    deadline.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) stop_all();
    });
    while (finished < static_cast<int>(agents_.size()) && io_.run_one() > 0) {
    }
    deadline.cancel();
    io_.run();  // let the cancelled handlers drain
    return finished;
  }

  void stop_all() {
    for (auto& agent : agents_) agent->stop();
  }

  Instant now() const {
    return Instant(std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start_));
  }

  asio::io_context& io() { return io_; }

  static std::vector<Outcome> outcomes(const std::vector<AppEvent>& events) {
    std::vector<Outcome> list;
    for (const auto& e : events) list.push_back({e.step, e.outcome, e.bytes});
    return list;
  }

  PerSide<std::vector<AppEvent>> events;

 private:
  asio::io_context io_;
  std::chrono::steady_clock::time_point start_;
  std::vector<std::unique_ptr<Agent>> agents_;
};

using Outcomes = std::vector<Outcome>;

TEST_CASE("errno_name spells errno values as their macro names") {
  CHECK(errno_name(ECONNRESET) == "ECONNRESET");
  CHECK(errno_name(ETIMEDOUT) == "ETIMEDOUT");
  CHECK(errno_name(EPIPE) == "EPIPE");
  CHECK(errno_name(4242) == "errno 4242");
}

TEST_CASE("outcome_name maps success to ok, end of stream to eof, system errors to errno names") {
  CHECK(outcome_name({}) == "ok");
  CHECK(outcome_name(asio::error::eof) == "eof");
  CHECK(outcome_name(asio::error::connection_refused) == "ECONNREFUSED");
  CHECK(outcome_name(asio::error::connection_reset) == "ECONNRESET");
}

TEST_CASE("a client's bytes and close reach the server as data then eof") {
  AgentRun run;
  const auto port = fresh_port();
  auto& server = run.add(Side::server, {accept_step(), recv_until_eof_step(), close_step()}, port);
  auto& client = run.add(Side::client, {connect_step(), send_step(1000), close_step()}, port);
  REQUIRE(run.run() == 2);

  CHECK(AgentRun::outcomes(run.events.client) ==
        Outcomes{{"connect", "ok", 0}, {"send 1000", "ok", 1000}, {"close", "ok", 0}});
  CHECK(AgentRun::outcomes(run.events.server) ==
        Outcomes{{"accept", "ok", 0}, {"recv-until-eof", "eof", 1000}, {"close", "ok", 0}});
  CHECK(client.bytes_sent() == 1000);
  CHECK(server.bytes_received() == 1000);
  CHECK(client.done());
  CHECK(server.done());
  CHECK_FALSE(client.failed());
  // The ports pair up, for attributing sock_diag samples.
  REQUIRE(client.local_port());
  CHECK(client.remote_port() == port);
  CHECK(server.local_port() == port);
  CHECK(server.remote_port() == client.local_port());
}

TEST_CASE("each AppEvent carries its side and a time from the run's clock, in step order") {
  AgentRun run;
  const auto port = fresh_port();
  run.add(Side::server, {accept_step(), recv_until_eof_step(), close_step()}, port);
  run.add(Side::client, {connect_step(), sleep_step(20ms), close_step()}, port);
  const Instant before = run.now();
  REQUIRE(run.run() == 2);
  const Instant after = run.now();

  REQUIRE(run.events.client.size() == 3);
  for (const auto& e : run.events.client) {
    CHECK(e.side == Side::client);
    CHECK(e.at >= before);
    CHECK(e.at <= after);
  }
  CHECK(run.events.client[2].at - run.events.client[0].at >= 20ms);
  for (const auto& e : run.events.server) CHECK(e.side == Side::server);
}

TEST_CASE("recv N reads exactly N bytes and leaves the rest for the next step") {
  AgentRun run;
  const auto port = fresh_port();
  auto& server = run.add(Side::server, {accept_step(), recv_step(400), recv_step(600), recv_until_eof_step(), close_step()}, port);
  run.add(Side::client, {connect_step(), send_step(1000), close_step()}, port);
  REQUIRE(run.run() == 2);

  CHECK(AgentRun::outcomes(run.events.server) == Outcomes{{"accept", "ok", 0},
                                                          {"recv 400", "ok", 400},
                                                          {"recv 600", "ok", 600},
                                                          {"recv-until-eof", "eof", 0},
                                                          {"close", "ok", 0}});
  CHECK(server.bytes_received() == 1000);
}

TEST_CASE("recv N reports eof with the bytes read when the peer closes first") {
  AgentRun run;
  const auto port = fresh_port();
  auto& server = run.add(Side::server, {accept_step(), recv_step(1000), send_step(10), close_step()}, port);
  run.add(Side::client, {connect_step(), send_step(300), close_step()}, port);
  REQUIRE(run.run() == 2);

  // A short read is a failure: the send is skipped, the close still runs.
  CHECK(AgentRun::outcomes(run.events.server) ==
        Outcomes{{"accept", "ok", 0}, {"recv 1000", "eof", 300}, {"close", "ok", 0}});
  CHECK(server.failed());
  CHECK(server.done());
}

TEST_CASE("a client abort makes the server's read fail with ECONNRESET") {
  AgentRun run;
  const auto port = fresh_port();
  auto& server = run.add(Side::server, {accept_step(), recv_until_eof_step(), close_step()}, port);
  run.add(Side::client, {connect_step(), send_step(100), sleep_step(50ms), abort_step()}, port);
  REQUIRE(run.run() == 2);

  CHECK(AgentRun::outcomes(run.events.client) ==
        Outcomes{{"connect", "ok", 0}, {"send 100", "ok", 100}, {"sleep 50ms", "ok", 0}, {"abort", "ok", 0}});
  // The bytes before the RST were read; the RST itself surfaces as ECONNRESET, and close still runs.
  CHECK(AgentRun::outcomes(run.events.server) ==
        Outcomes{{"accept", "ok", 0}, {"recv-until-eof", "ECONNRESET", 100}, {"close", "ok", 0}});
  CHECK(server.bytes_received() == 100);
}

TEST_CASE("closing with unread data makes the kernel send RST, and the peer sees ECONNRESET") {
  AgentRun run;
  const auto port = fresh_port();
  // The server never reads the client's 1000 bytes: close() must turn into a reset.
  run.add(Side::server, {accept_step(), sleep_step(50ms), close_step()}, port);
  auto& client = run.add(Side::client, {connect_step(), send_step(1000), recv_until_eof_step(), close_step()}, port);
  REQUIRE(run.run() == 2);

  CHECK(AgentRun::outcomes(run.events.server) ==
        Outcomes{{"accept", "ok", 0}, {"sleep 50ms", "ok", 0}, {"close", "ok", 0}});
  CHECK(AgentRun::outcomes(run.events.client) == Outcomes{{"connect", "ok", 0},
                                                          {"send 1000", "ok", 1000},
                                                          {"recv-until-eof", "ECONNRESET", 0},
                                                          {"close", "ok", 0}});
  CHECK(client.failed());
}

TEST_CASE("connecting to a port with no listener fails with ECONNREFUSED and skips to close") {
  AgentRun run;
  auto& client = run.add(Side::client, {connect_step(), send_step(10), close_step()}, fresh_port());
  REQUIRE(run.run() == 1);

  CHECK(AgentRun::outcomes(run.events.client) == Outcomes{{"connect", "ECONNREFUSED", 0}, {"close", "ok", 0}});
  CHECK(client.failed());
  CHECK(client.bytes_sent() == 0);
  // The SYN's source port is known even though the connection never existed.
  CHECK(client.local_port().has_value());
}

TEST_CASE("after shutdown-write the client still receives what the server sends") {
  AgentRun run;
  const auto port = fresh_port();
  auto& server = run.add(Side::server, {accept_step(), recv_until_eof_step(), send_step(500), close_step()}, port);
  auto& client = run.add(Side::client, {connect_step(), shutdown_write_step(), recv_until_eof_step(), close_step()}, port);
  REQUIRE(run.run() == 2);

  CHECK(AgentRun::outcomes(run.events.client) == Outcomes{{"connect", "ok", 0},
                                                          {"shutdown-write", "ok", 0},
                                                          {"recv-until-eof", "eof", 500},
                                                          {"close", "ok", 0}});
  CHECK(AgentRun::outcomes(run.events.server) == Outcomes{
                                                     {"accept", "ok", 0},
                                                     {"recv-until-eof", "eof", 0},
                                                     {"send 500", "ok", 500},
                                                     {"close", "ok", 0}});
  CHECK(client.bytes_received() == 500);
  CHECK(server.bytes_sent() == 500);
}

TEST_CASE("sending after the peer reset fails with ECONNRESET or EPIPE") {
  AgentRun run;
  const auto port = fresh_port();
  run.add(Side::server, {accept_step(), abort_step()}, port);
  auto& client = run.add(Side::client, {connect_step(), sleep_step(100ms), send_step(1000), close_step()}, port);
  REQUIRE(run.run() == 2);

  REQUIRE(run.events.client.size() == 4);
  const auto& send = run.events.client[2];
  CHECK(send.step == "send 1000");
  CHECK((send.outcome == "ECONNRESET" || send.outcome == "EPIPE"));
  CHECK(send.bytes == 0);
  CHECK(client.bytes_sent() == 0);
  CHECK(run.events.client[3].outcome == "ok");  // close after the error still runs
  CHECK(AgentRun::outcomes(run.events.server) == Outcomes{{"accept", "ok", 0}, {"abort", "ok", 0}});
}

TEST_CASE("a sleep step lasts at least its duration") {
  AgentRun run;
  auto& client = run.add(Side::client, {sleep_step(80ms)}, fresh_port());
  const Instant before = run.now();
  REQUIRE(run.run() == 1);

  REQUIRE(AgentRun::outcomes(run.events.client) == Outcomes{{"sleep 80ms", "ok", 0}});
  CHECK(run.events.client[0].at - before >= 80ms);
  CHECK(client.done());
}

TEST_CASE("in-process exit and a wrong-side step are reported as unsupported") {
  AgentRun run;
  auto& client = run.add(Side::client, {accept_step(), close_step(), exit_step()}, fresh_port());
  REQUIRE(run.run() == 1);

  // exit still runs after a failed step (a dying process dies either way), and in-process it cannot.
  CHECK(AgentRun::outcomes(run.events.client) ==
        Outcomes{{"accept", "unsupported", 0}, {"close", "ok", 0}, {"exit", "unsupported", 0}});
  CHECK(client.failed());
}

TEST_CASE("stop() reports the pending step as aborted and does not call on_done") {
  AgentRun run;
  const auto port = fresh_port();
  auto& server = run.add(Side::server, {accept_step(), recv_until_eof_step(), close_step()}, port);
  auto& client = run.add(Side::client, {connect_step(), send_step(10), sleep_step(10000ms), close_step()}, port);
  const Instant before = run.now();
  CHECK(run.run(300ms) == 0);

  CHECK(run.now() - before < 5s);
  CHECK(AgentRun::outcomes(run.events.client) ==
        Outcomes{{"connect", "ok", 0}, {"send 10", "ok", 10}, {"sleep 10000ms", "aborted", 0}});
  CHECK(AgentRun::outcomes(run.events.server) ==
        Outcomes{{"accept", "ok", 0}, {"recv-until-eof", "aborted", 10}});
  CHECK_FALSE(client.done());
  CHECK_FALSE(server.done());
}

TEST_CASE("a server listens from prepare(), before its steps start") {
  AgentRun run;
  const auto port = fresh_port();
  auto& server = run.add(Side::server, {accept_step(), close_step()}, port);
  server.prepare();
  // A second listener on the same port cannot bind while the first one listens.
  AgentRun other;
  auto& second = other.add(Side::server, {accept_step()}, port);
  CHECK_THROWS_AS(second.prepare(), HarnessError);
}

TEST_CASE("a server takes one connection: after its accept, a second client is refused") {
  AgentRun run;
  const auto port = fresh_port();
  auto& server = run.add(Side::server, {accept_step(), sleep_step(100ms), close_step()}, port);
  run.add(Side::client, {connect_step(), sleep_step(100ms), close_step()}, port);
  run.add(Side::client, {sleep_step(30ms), connect_step(), close_step()}, port);
  REQUIRE(run.run() == 3);
  server.prepare();  // already listened once: must not listen again

  const auto clients = AgentRun::outcomes(run.events.client);
  CHECK(std::count(clients.begin(), clients.end(), Outcome{"connect", "ok", 0}) == 1);
  CHECK(std::count(clients.begin(), clients.end(), Outcome{"connect", "ECONNREFUSED", 0}) == 1);
  AgentRun late;
  late.add(Side::client, {connect_step()}, port);
  REQUIRE(late.run() == 1);
  CHECK(AgentRun::outcomes(late.events.client) == Outcomes{{"connect", "ECONNREFUSED", 0}});
}

TEST_CASE("a destroyed agent's pending handlers do nothing") {
  asio::io_context io;
  std::vector<AppEvent> events;
  {
    AgentConfig config;
    config.side = Side::client;
    config.steps = {sleep_step(10ms)};
    config.on_event = [&events](const AppEvent& e) { events.push_back(e); };
    Agent agent(io, std::move(config));
    agent.start([] {});
    io.run_one();  // the posted start: the sleep is now pending
  }
  io.run();
  CHECK(events.empty());
}

}  // namespace
}  // namespace lastack
