// Sockets the policy is not about: a proxy's loopback backend in the server's namespace has no
// segment on the wire, so no check judges it; the ladder leaves it out of the lanes and
// legal-states lists it apart.
#include <catch2/catch.hpp>

#include <algorithm>

#include "harness/core/oracle/expect/expectations.hpp"
#include "harness/core/oracle/invariants.hpp"
#include "lastack/report.hpp"
#include "harness/core/trace/state_history.hpp"
#include "tests/unit/trace_builder.hpp"

using namespace lastack;
using namespace lastack::testing;
using Catch::Matchers::Contains;
using S = TcpState;

namespace {

// drop-final-ack's trace, traced, plus the proxy's backend connection 50000 -> 8000 on loopback,
// which closed first and was left in FIN_WAIT_2.
Trace with_loopback_backend() {
  TraceBuilder b;
  b.trace = drop_final_ack_trace();
  b.trace.kernel_source = KernelSource::traced;
  b.state(0.5, Side::server, S::CLOSE, S::SYN_SENT);
  b.state(0.6, Side::server, S::SYN_SENT, S::ESTABLISHED);
  b.state(60.0, Side::server, S::ESTABLISHED, S::FIN_WAIT1);
  b.state(60.1, Side::server, S::FIN_WAIT1, S::FIN_WAIT2);
  for (TraceEvent& ev : b.trace.events)
    if (auto* c = std::get_if<StateChange>(&ev)) {
      c->local_port = 50000;
      c->remote_port = 8000;
      c->cookie = 77;
    }
  return b.trace;
}

}  // namespace

TEST_CASE("a loopback backend's socket is off the wire: never judged, listed apart") {
  const Trace t = with_loopback_backend();
  const auto all = state_histories(t);
  REQUIRE(std::any_of(all.begin(), all.end(), [](const StateHistory& h) { return h.local_port == 50000; }));
  const auto judged = side_histories(t, Side::server);
  CHECK(std::none_of(judged.begin(), judged.end(), [](const StateHistory& h) { return h.local_port == 50000; }));
  CHECK_FALSE(judged.empty());  // the wire's own server socket stays

  StateExpect never_fin_wait2;
  never_fin_wait2.side = Side::server;
  never_fin_wait2.never = S::FIN_WAIT2;
  never_fin_wait2.line = 9;
  const CheckResult r = check_state(t, never_fin_wait2);
  CHECK(r.outcome != Outcome::fail);  // the backend's FIN_WAIT_2 is not the server's

  const CheckResult legal = check_legal_states(t);
  CHECK_THAT(legal.saw, Contains("off the wire, not judged: server socket 50000→8000"));
  Trace without = drop_final_ack_trace();
  without.kernel_source = KernelSource::traced;
  CHECK(render_ladder(t, {false, 100}) == render_ladder(without, {false, 100}));  // not in the lanes
}
