// check = "reset" with received-by: the RSTs a kernel accepted, on its own word
// (tcp:tcp_receive_reset); it can pass, fail, and be not checked, never passed without that word.
#include <catch2/catch.hpp>

#include "harness/core/oracle/expect/expectations.hpp"
#include "tests/unit/findings.hpp"
#include "trace_builder.hpp"

using namespace lastack;
using namespace lastack::testing;

namespace {

/// A connection whose server data is answered, by the wire, with RSTs to both ends (injected).
Trace cut_connection(bool client_accepts) {
  TraceBuilder b;
  b.trace.kernel_source = KernelSource::traced;
  b.wire(0, Side::client, "S", 0, 0, 0, {Role::syn});
  b.wire(0.1, Side::server, "S.", 0, 1, 0, {Role::syn_ack});
  b.wire(0.2, Side::client, ".", 1, 1, 0, {Role::handshake_ack});
  b.wire(1, Side::server, "P.", 1, 1, 100, {Role::data}, Fate::dropped);
  b.wire(1.1, Side::server, "R.", 1, 1, 0, {Role::rst}).injected = true;
  b.wire(1.1, Side::client, "R", 1, 0, 0, {Role::rst}).injected = true;
  if (client_accepts) b.reset(1.2, Side::client, TcpState::ESTABLISHED, false);
  b.reset(1.2, Side::server, TcpState::ESTABLISHED, false);
  return b.trace;
}

ResetExpect received_by(Side side, std::optional<std::uint32_t> count = std::nullopt) {
  ResetExpect x;
  x.received_by = side;
  x.count = count;
  x.line = 7;
  return x;
}

}  // namespace

TEST_CASE("reset received-by passes on the kernel's tcp_receive_reset", "[reset]") {
  const CheckResult r = check_reset(cut_connection(true), received_by(Side::client, 1));
  INFO(r.saw);
  CHECK(r.outcome == Outcome::pass);
  CHECK(claim<CountClaim>(r).accepted);
  CHECK(claim<CountClaim>(r).bound.count == 1);
  const auto& accepted = seen<ResetsAccepted>(r).accepted;
  REQUIRE(accepted.size() == 1);
  CHECK(accepted[0].side == Side::client);
  CHECK(accepted[0].state == TcpState::ESTABLISHED);
  CHECK(accepted[0].at == ms(1.2));
  // The words, rendered from the finding.
  CHECK(r.name == "reset received by client");
  CHECK(r.expected == "the client's kernel accepts exactly 1 RST");
  CHECK(r.saw == "1 RST accepted (tcp_receive_reset): in ESTABLISHED at 1.2 ms");
}

TEST_CASE("reset received-by fails when the kernel accepted none: an injected RST on the wire is not enough",
          "[reset]") {
  const CheckResult r = check_reset(cut_connection(false), received_by(Side::client));
  INFO(r.saw);
  CHECK(r.outcome == Outcome::fail);
  CHECK(seen<ResetsAccepted>(r).accepted.empty());
  CHECK(r.saw == "the client's kernel accepted no RST (tcp_receive_reset)");
  // Exact counts fail too, either way.
  CHECK(check_reset(cut_connection(true), received_by(Side::server, 2)).outcome == Outcome::fail);
  CHECK(check_reset(cut_connection(true), received_by(Side::server, 0)).outcome == Outcome::fail);
}

TEST_CASE("reset received-by is not checked without the kernel's tracepoints or a wire", "[reset]") {
  Trace sampled = cut_connection(true);
  sampled.kernel_source = KernelSource::sampled;
  const CheckResult r = check_reset(sampled, received_by(Side::client, 0));
  CHECK(r.outcome == Outcome::not_checked);
  CHECK(why_not(r) == Unjudged::no_kernel_events);
  CHECK(r.name == "no RST accepted by client");
  CHECK(r.saw == "no kernel tracepoints in this run: a received RST has no word of the kernel's");
  Trace empty;
  empty.kernel_source = KernelSource::traced;
  const CheckResult nothing = check_reset(empty, received_by(Side::client, 0));
  CHECK(nothing.outcome == Outcome::not_checked);
  CHECK(why_not(nothing) == Unjudged::nothing_on_wire);
  CHECK(nothing.saw == "nothing on the wire");
}

TEST_CASE("reset received-by judged while the kernel could still accept one is not checked, still named as its own",
          "[reset]") {
  Trace t = cut_connection(false);
  t.pending_at_end.push_back(PendingEvidence{});
  const CheckResult r = check_reset(t, received_by(Side::client));
  CHECK(r.outcome == Outcome::not_checked);
  CHECK(why_not(r) == Unjudged::window_open);
  CHECK(r.name == "reset received by client");  // the window's words keep the check's own name
}
