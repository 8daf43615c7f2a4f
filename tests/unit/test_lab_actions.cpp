// The lab-action engine: which [[lab]] actions a segment fires, on which side, once.
#include <catch2/catch.hpp>

#include "harness/core/decide/lab_actions.hpp"

using namespace lastack;
using namespace std::chrono_literals;

namespace {

Classified seg(Role role, Side from, std::size_t connection = 0, std::optional<Side> first_closer = std::nullopt) {
  Classified c;
  c.roles.add(role);
  c.from = from;
  c.connection = ConnectionIndex{connection};
  c.first_closer = first_closer;
  return c;
}

LabAction on(Role role, std::optional<Side> from, LabActionKind kind, Side side, Millis after = 0ms) {
  LabAction a;
  a.action = kind;
  a.on.segment = role;
  a.on.from = from;
  a.side = side;
  a.after = after;
  return a;
}

}  // namespace

TEST_CASE("lab actions: an action fires on the first segment its selector matches, then never again") {
  LabActionEngine engine({on(Role::final_ack, Side::client, LabActionKind::destroy_timewait, Side::client, 50ms)},
                         false);
  CHECK(engine.on_segment(seg(Role::fin, Side::client)).empty());
  CHECK(engine.on_segment(seg(Role::final_ack, Side::server)).empty());  // wrong sender
  CHECK(engine.pending() == 0);
  const auto fired = engine.on_segment(seg(Role::final_ack, Side::client));
  REQUIRE(fired.size() == 1);
  CHECK(fired[0] == LabFiring{0, Side::client, 50ms});
  CHECK(engine.pending() == 1);
  CHECK(engine.on_segment(seg(Role::final_ack, Side::client)).empty());  // once only
  CHECK(engine.pending() == 1);
  engine.done();
  CHECK(engine.pending() == 0);
  engine.done();  // never below zero
  CHECK(engine.pending() == 0);
}

TEST_CASE("lab actions: one segment fires every action it matches, in the policy's order") {
  LabActionEngine engine({on(Role::rst, std::nullopt, LabActionKind::destroy_timewait, Side::server),
                          on(Role::syn, std::nullopt, LabActionKind::inject_rst, Side::client),
                          on(Role::rst, Side::client, LabActionKind::inject_rst, Side::server, 10ms)},
                         false);
  const auto fired = engine.on_segment(seg(Role::rst, Side::client));
  REQUIRE(fired.size() == 2);
  CHECK(fired[0] == LabFiring{0, Side::server, 0ms});
  CHECK(fired[1] == LabFiring{2, Side::server, 10ms});
  CHECK(engine.pending() == 2);
}

TEST_CASE("lab actions: per connection, each connection fires its own copy, otherwise the first only") {
  const LabAction a = on(Role::final_ack, std::nullopt, LabActionKind::destroy_timewait, Side::client);
  LabActionEngine each({a}, true);
  CHECK(each.on_segment(seg(Role::final_ack, Side::client, 0)).size() == 1);
  CHECK(each.on_segment(seg(Role::final_ack, Side::client, 1)).size() == 1);
  CHECK(each.on_segment(seg(Role::final_ack, Side::client, 1)).empty());
  CHECK(each.pending() == 2);
  LabActionEngine once({a}, false);
  CHECK(once.on_segment(seg(Role::final_ack, Side::client, 0)).size() == 1);
  CHECK(once.on_segment(seg(Role::final_ack, Side::client, 1)).empty());
}

TEST_CASE("lab actions: a side named by the order of closing waits for the connection's first FIN") {
  LabAction a = on(Role::ack, std::nullopt, LabActionKind::destroy_timewait, Side::client);
  a.side = SideRef::second_closer();
  LabActionEngine engine({a}, false);
  CHECK(engine.on_segment(seg(Role::ack, Side::client)).empty());  // no FIN yet: nobody is a closer
  CHECK(engine.pending() == 0);
  // The server closed first: the second closer is the client.
  const auto fired = engine.on_segment(seg(Role::ack, Side::client, 0, Side::server));
  REQUIRE(fired.size() == 1);
  CHECK(fired[0].side == Side::client);
  LabAction first = a;
  first.side = SideRef::first_closer();
  LabActionEngine other({first}, false);
  CHECK(other.on_segment(seg(Role::ack, Side::client, 0, Side::server)).at(0).side == Side::server);
}

TEST_CASE("lab actions: the lab event's words name the side as the policy did") {
  LabAction a = on(Role::final_ack, std::nullopt, LabActionKind::destroy_timewait, Side::client);
  CHECK(timewait_destroyed_text(a, Side::client, 1) == "destroyed TIME_WAIT on client: 1 socket (SOCK_DESTROY)");
  a.side = SideRef::first_closer();
  CHECK(timewait_destroyed_text(a, Side::server, 0) ==
        "destroyed TIME_WAIT on first-closer (server): 0 sockets (SOCK_DESTROY)");
  CHECK(injected_rst_note(1) == "injected by lab action 2: inject-rst");
}
