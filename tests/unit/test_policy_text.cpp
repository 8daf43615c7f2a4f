// The words `lastack explain` uses for a policy's faults and lab actions.
#include <catch2/catch.hpp>

#include "harness/core/report/policy_text.hpp"

using namespace lastack;

namespace {
FaultRule rule(Role role, std::optional<Side> from, ActionKind action) {
  FaultRule r;
  r.match.segment = role;
  r.match.from = from;
  r.action = action;
  return r;
}
}  // namespace

TEST_CASE("a fault's selection reads as which segments it takes") {
  FaultRule all = rule(Role::syn_ack, Side::server, ActionKind::drop);
  CHECK(describe_fault(all) == "drop every syn-ack from server");
  FaultRule first = all;
  first.count = 1;
  first.match.segment = Role::final_ack;
  first.match.from = Side::client;
  CHECK(describe_fault(first) == "drop the 1st final-ack from client");
  FaultRule range = rule(Role::syn, Side::client, ActionKind::drop);
  range.nth = 2;
  range.count = 100;
  CHECK(describe_fault(range) == "drop the 2nd to 101st syn from client");
  FaultRule later = rule(Role::data, std::nullopt, ActionKind::drop);
  later.nth = 3;
  CHECK(describe_fault(later) == "drop every data from the 3rd on");
  later.match.connection = ConnectionNumber{2};
  later.every = 2;
  CHECK(describe_fault(later) == "drop every data on connection 2 from the 3rd on, every 2nd");
  FaultRule third = rule(Role::data, Side::server, ActionKind::drop);
  third.nth = 11;
  third.count = 1;
  CHECK(describe_fault(third) == "drop the 11th data from server");
}

TEST_CASE("each action says what it does and for how long") {
  FaultRule delay = rule(Role::final_ack, std::nullopt, ActionKind::delay);
  delay.delay = Millis(100);
  CHECK(describe_fault(delay) == "delay every final-ack by 100ms");
  FaultRule hold = rule(Role::first_fin, Side::client, ActionKind::hold);
  hold.until = Selector{Role::fin, Side::server, std::nullopt};
  hold.deadline = Millis(3000);
  CHECK(describe_fault(hold) == "hold every first-fin from client until a fin from server goes by (at most 3s)");
  hold.until.reset();
  hold.deadline = Millis(0);
  CHECK(describe_fault(hold) == "hold every first-fin from client (at most until the run ends)");
  FaultRule dup = rule(Role::fin, Side::client, ActionKind::duplicate);
  dup.copies = 2;
  CHECK(describe_fault(dup) == "duplicate every fin from client (2 extra copies)");
  dup.until = Selector{Role::rst, Side::server, std::nullopt};
  CHECK(describe_fault(dup) ==
        "duplicate every fin from client (2 extra copies), the copies held until a rst from server goes by");
}

TEST_CASE("a fault by chance says its probability") {
  FaultRule loss = rule(Role::data, Side::server, ActionKind::drop);
  loss.probability = 0.1;
  CHECK(describe_fault(loss) == "drop every data from server (each by chance, p=0.1)");
  loss.nth = 3;
  loss.count = 1;
  CHECK(describe_fault(loss) == "drop the 3rd data from server (by chance, p=0.1)");
}

TEST_CASE("lab actions say when and to whom") {
  LabAction destroy;
  destroy.on = Selector{Role::final_ack, Side::client, std::nullopt};
  destroy.side = Side::client;
  destroy.after = Millis(50);
  CHECK(describe_lab_action(destroy) ==
        "50ms after a final-ack from client: destroy the client's TIME_WAIT socket (SOCK_DESTROY)");
  LabAction rst = destroy;
  rst.action = LabActionKind::inject_rst;
  rst.after = Millis(0);
  CHECK(describe_lab_action(rst) == "when a final-ack from client goes by: inject a RST toward the client (in its receive window)");
}

TEST_CASE("a link direction reads as its delay, rate and chances") {
  LinkDirection d;
  CHECK(describe_link(d) == "nothing");
  d.latency = std::chrono::milliseconds(50);
  d.jitter = std::chrono::milliseconds(10);
  d.rate = 8'000'000;
  d.queue_bytes = 65536;
  d.loss = 0.01;
  CHECK(describe_link(d) == "50ms ± 10ms, in order; 8 Mbit/s, queue 65536 bytes; loss p=0.01");
  d.reorder = true;
  d.queue_bytes.reset();
  d.queue_segments = 100;
  d.duplicate = 0.5;
  CHECK(describe_link(d) == "50ms ± 10ms, may reorder; 8 Mbit/s, queue 100 segments; loss p=0.01; duplicate p=0.5");
}
