// Sample diffing for the sock_diag sampler: which samples of a socket are logged, and when a
// socket a sample no longer shows is logged gone.
#include <catch2/catch.hpp>

#include "harness/core/trace/socket_changes.hpp"

using namespace lastack;
using namespace std::chrono_literals;

namespace {

constexpr std::chrono::microseconds jiffy{4000};

SocketSample sample(double start_ms) {
  const Instant start(std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(start_ms)));
  return {start, start + 100us};
}

SocketEvent socket(SocketCookie cookie, TcpState state, double at_ms, Millis expires = 0ms,
                   SocketTimer timer = SocketTimer::none) {
  SocketEvent e;
  e.at = sample(at_ms).start;
  e.side = Side::server;
  e.local_port = 8080;
  e.remote_port = static_cast<std::uint16_t>(40000 + cookie);
  e.cookie = cookie;
  e.state = state;
  e.expires = expires;
  e.timer = timer;
  return e;
}

SocketEvent time_wait(SocketCookie cookie, double at_ms, Millis left) {
  return socket(cookie, TcpState::TIME_WAIT, at_ms, left, SocketTimer::time_wait);
}

// The events one sample logs.
std::vector<SocketEvent> next(SocketChanges& changes, double at_ms, std::vector<SocketEvent> shown,
                              bool list_all = false) {
  std::vector<SocketEvent> out;
  changes.next_sample(sample(at_ms), shown, list_all, out);
  return out;
}

}  // namespace

TEST_CASE("socket changes: a new socket is logged, an unchanged one is not, a change is") {
  SocketChanges changes(jiffy);
  auto logged = next(changes, 0, {socket(1, TcpState::ESTABLISHED, 0)});
  REQUIRE(logged.size() == 1);
  CHECK(logged[0].cookie == 1);
  CHECK(next(changes, 2, {socket(1, TcpState::ESTABLISHED, 2)}).empty());
  SocketEvent retrans = socket(1, TcpState::ESTABLISHED, 4);
  retrans.retransmits = 1;
  logged = next(changes, 4, {retrans});
  REQUIRE(logged.size() == 1);
  CHECK(logged[0].retransmits == 1);
  CHECK(logged[0].at == sample(4).start);
  logged = next(changes, 6, {socket(1, TcpState::FIN_WAIT1, 6)});
  REQUIRE(logged.size() == 1);
  CHECK(logged[0].state == TcpState::FIN_WAIT1);
}

TEST_CASE("socket changes: the final sample lists every socket, changed or not") {
  SocketChanges changes(jiffy);
  next(changes, 0, {socket(1, TcpState::ESTABLISHED, 0), socket(2, TcpState::CLOSE_WAIT, 0)});
  CHECK(next(changes, 2, {socket(1, TcpState::ESTABLISHED, 2), socket(2, TcpState::CLOSE_WAIT, 2)}).empty());
  const auto logged =
      next(changes, 4, {socket(2, TcpState::CLOSE_WAIT, 4), socket(1, TcpState::ESTABLISHED, 4)}, true);
  REQUIRE(logged.size() == 2);
  CHECK(logged[0].cookie == 2);  // in the sample's order
  CHECK(logged[1].cookie == 1);
}

TEST_CASE("socket changes: a socket the sample does not show is logged gone once, after the shown ones") {
  SocketChanges changes(jiffy);
  next(changes, 0, {socket(5, TcpState::FIN_WAIT2, 0, 60000ms, SocketTimer::keepalive),
                    socket(3, TcpState::LAST_ACK, 0)});
  const auto logged = next(changes, 2, {socket(9, TcpState::SYN_RECV, 2)});
  REQUIRE(logged.size() == 3);
  CHECK(logged[0].cookie == 9);  // new, shown
  CHECK(logged[1].cookie == 3);  // gone, by cookie
  CHECK(logged[2].cookie == 5);
  const SocketEvent& gone = logged[2];
  CHECK(gone.state == TcpState::CLOSE);
  CHECK(gone.timer == SocketTimer::none);
  CHECK(gone.expires == 0ms);
  CHECK(gone.at == sample(2).start);
  CHECK(gone.remote_port == 40005);  // the socket's own ports
  CHECK(next(changes, 4, {socket(9, TcpState::SYN_RECV, 4)}).empty());  // gone only once
  // The same cookie again is logged: its state is no longer CLOSE.
  CHECK(next(changes, 6, {socket(9, TcpState::SYN_RECV, 6), socket(3, TcpState::LAST_ACK, 6)}).size() == 1);
}

TEST_CASE("socket changes: a TIME_WAIT countdown is not a change, a restart is") {
  SocketChanges changes(jiffy);
  CHECK(next(changes, 0, {time_wait(1, 0, 60000ms)}).size() == 1);
  CHECK(next(changes, 100, {time_wait(1, 100, 59900ms)}).empty());  // counting down
  const auto logged = next(changes, 200, {time_wait(1, 200, 60000ms)});  // a segment restarted it
  REQUIRE(logged.size() == 1);
  CHECK(logged[0].expires == 60000ms);
  CHECK(logged[0].at == sample(200).start);
}

TEST_CASE("socket changes: a restart is measured against the newest countdown, not the last logged") {
  SocketChanges changes(jiffy);
  next(changes, 0, {time_wait(1, 0, 60000ms)});
  // A jiffy's jitter: the expiry reads 4 ms later, within the bounds, so not a restart...
  CHECK(next(changes, 100, {time_wait(1, 100, 59904ms)}).empty());
  // ...and this one's expiry is later than the first sample's bounds, not than the newest.
  CHECK(next(changes, 200, {time_wait(1, 200, 59805ms)}).empty());
}

TEST_CASE("socket_changed: each field that makes a sample worth logging") {
  const SocketEvent a = socket(1, TcpState::ESTABLISHED, 0);
  const SocketSample s0 = sample(0), s1 = sample(2);
  CHECK_FALSE(socket_changed(a, s0, a, s1, jiffy));
  SocketEvent b = a;
  b.timer = SocketTimer::retransmit;
  CHECK(socket_changed(a, s0, b, s1, jiffy));
  b = a;
  b.total_retrans = 3;
  CHECK(socket_changed(a, s0, b, s1, jiffy));
  b = a;
  b.rto = 400ms;
  CHECK(socket_changed(a, s0, b, s1, jiffy));
  b = a;
  b.expires = 100ms;  // another timer's time left, not a TIME_WAIT: not a change
  CHECK_FALSE(socket_changed(a, s0, b, s1, jiffy));
}
