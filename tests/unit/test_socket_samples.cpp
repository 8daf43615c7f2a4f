// What the sock_diag samples of a trace tell (core/socket_samples.hpp), and that the socket
// checks judge a sampled state by the samples actually taken, not the 2 ms the observer asked
// for: a loaded host samples far less often, and a check must then say "not checked".
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "lastack/error.hpp"
#include "harness/core/oracle/expect/expectations.hpp"
#include "lastack/oracle.hpp"
#include "lastack/report.hpp"
#include "harness/core/trace/socket_samples.hpp"
#include "harness/core/record/trace_reader.hpp"
#include "tests/unit/trace_builder.hpp"
#include "tests/unit/trace_mutations.hpp"
#include "lastack/trace_jsonl.hpp"
#include "harness/core/oracle/checks.hpp"

using namespace lastack;
using namespace lastack::testing;
using Catch::Matchers::Contains;
using enum Role;

namespace {

constexpr Side client = Side::client, server = Side::server;
using S = TcpState;

// Samples every `step_ms` from `from_ms` up to `to_ms`, each taking 0.1 ms.
void sample_every(std::vector<SocketSample>& out, double from_ms, double to_ms, double step_ms) {
  for (double t = from_ms; t <= to_ms + 1e-9; t += step_ms) out.push_back({ms(t), ms(t + 0.1)});
}

// The client connects at 0 ms, sends and half-closes at 2 ms, and leaves; the server never
// closes. States sampled (no BPF), with every sample of both sides recorded, every 2 ms to
// 200 ms: the run ends there.
Trace leaky_sampled_with_samples() {
  TraceBuilder b;
  b.wire(0.0, client, "S", 0, 0, 0, {syn});
  b.wire(0.1, server, "S.", 0, 1, 0, {syn_ack});
  b.wire(0.2, client, ".", 1, 1, 0, {handshake_ack, ack});
  b.wire(2.0, client, "F.", 1, 1, 0, {fin, first_fin});
  b.wire(2.1, server, ".", 1, 2, 0, {ack, first_fin_ack});
  b.socket(0.0, client, S::SYN_SENT);
  b.socket(2.0, client, S::FIN_WAIT1);
  b.socket(4.0, client, S::FIN_WAIT2);
  b.socket(2.0, server, S::ESTABLISHED);
  b.socket(4.0, server, S::CLOSE_WAIT);
  b.trace.kernel_source = KernelSource::sampled;
  b.trace.observed_until = ms(200.1);
  b.trace.run_end = ms(200.1);
  sample_every(b.trace.samples.client, 0, 200, 2);
  sample_every(b.trace.samples.server, 0, 200, 2);
  sort_by_time(b.trace);
  return b.trace;
}

StateHistory sampled_history(Side side, std::vector<std::pair<double, TcpState>> steps) {
  StateHistory h;
  h.side = side;
  h.connection = ConnectionIndex{0};
  for (const auto& [at, state] : steps) h.steps.push_back({ms(at), state, StateSource::sampled, std::nullopt});
  return h;
}

SocketHeldExpect held(Side side, std::optional<Millis> longer_than = std::nullopt) {
  SocketHeldExpect x;
  x.side = side;
  x.longer_than = longer_than;
  x.line = 7;
  return x;
}

}  // namespace

TEST_CASE("a sampled change happened between the previous sample's start and the showing sample's end") {
  Trace t;
  t.samples.server = {{ms(0), ms(0.1)}, {ms(2), ms(2.1)}, {ms(40), ms(40.3)}};
  const InstantBounds b = sampled_change(t, server, ms(40));
  CHECK(b.earliest == ms(2));
  CHECK(b.latest == ms(40.3));
  // Shown by the first sample, or with no samples recorded: the asked-for pace and host latency.
  CHECK(sampled_change(t, server, ms(0)).earliest == ms(0) - nominal_blind_spot(t));
  CHECK(sampled_change(t, client, ms(40)).earliest == ms(40) - nominal_blind_spot(t));
  CHECK(nominal_blind_spot(t) == std::chrono::milliseconds(24));
}

TEST_CASE("the longest a state can go unseen is the widest span from one sample's start to the next one's end") {
  Trace t;
  t.samples.client = {{ms(0), ms(0.1)}, {ms(2), ms(2.1)}, {ms(4), ms(4.1)}, {ms(64), ms(64.5)}, {ms(66), ms(66.1)}};
  t.samples.server = {{ms(0), ms(0.1)}, {ms(2), ms(2.1)}};
  CHECK(longest_unseen(t, client, ms(66.1)) == ms(60.5).time_since_epoch());
  // After the last sample, up to the end, nothing looked.
  CHECK(longest_unseen(t, server, ms(30)) == ms(28).time_since_epoch());
  CHECK(longest_unseen(t, std::nullopt, ms(66.1)) == ms(64.1).time_since_epoch());
  t.samples.server.clear();
  CHECK(longest_unseen(t, server, ms(30)) == nominal_blind_spot(t));
}

TEST_CASE("a sampled last state is known only when a sample came a sample interval after its last segment") {
  TraceBuilder b;
  b.wire(10.0, client, ".", 1, 1, 0, {ack});
  b.trace.kernel_source = KernelSource::sampled;
  const StateHistory h = sampled_history(server, {{2, S::ESTABLISHED}, {4, S::CLOSE_WAIT}});
  sample_every(b.trace.samples.server, 0, 10, 2);
  b.trace.samples.server.push_back({ms(11), ms(11.1)});  // too soon after the segment at 10 ms
  CHECK_FALSE(last_state_known(b.trace, h, ms(20)));
  b.trace.samples.server.push_back({ms(12.5), ms(12.6)});
  CHECK(last_state_known(b.trace, h, ms(20)));
  CHECK_FALSE(last_state_known(b.trace, h, ms(12.55)));  // that sample was read after the end
  // Without recorded samples: no segment in the last two intervals (2 ms each) before the end.
  b.trace.samples.server.clear();
  CHECK(last_state_known(b.trace, h, ms(14)));
  CHECK_FALSE(last_state_known(b.trace, h, ms(13.9)));
}

TEST_CASE("socket-held on sampled states passes when samples were dense, and is not checked across a gap") {
  // The client never sampled in CLOSE_WAIT, every 2 ms: a hold over 10 ms would have been seen.
  const Trace dense = leaky_sampled_with_samples();
  const CheckResult pass = check_expectation(dense, held(client, Millis(10)));
  INFO(pass.saw);
  CHECK(pass.outcome == Outcome::pass);
  // The same run with the client unsampled from 100 to 160 ms (a loaded host): a 50 ms hold
  // could hide in the gap, whatever 2 ms the observer asked for.
  Trace gap = dense;
  std::erase_if(gap.samples.client, [](const SocketSample& s) { return s.start > ms(100) && s.start < ms(160); });
  const CheckResult blind = check_expectation(gap, held(client, Millis(50)));
  CHECK(blind.outcome == Outcome::not_checked);
  CHECK_THAT(blind.saw, Contains("a hold shorter than 60.1 ms between two samples can be missed"));
}

TEST_CASE("socket-held bounds a sampled hold by the samples around it") {
  // The server's CLOSE_WAIT, first shown by the sample at 4 ms, began after the one at 2 ms.
  Trace t = leaky_sampled_with_samples();
  const CheckResult r = check_expectation(t, held(server));
  INFO(r.saw);
  CHECK(r.outcome == Outcome::fail);
  CHECK_THAT(r.saw, Contains("held CLOSE_WAIT for at least 196 ms, still in it at the end"));
  // The last sample came too soon after the last segment to know CLOSE_WAIT was still current.
  TraceBuilder b;
  b.trace = t;
  b.wire(199.0, client, ".", 2, 1, 0, {ack});
  const CheckResult unknown = check_expectation(b.trace, held(server));
  CHECK(unknown.outcome == Outcome::not_checked);
  CHECK_THAT(unknown.saw, Contains("last sampled in CLOSE_WAIT just before the end, with segments after"));
}

TEST_CASE("socket samples are in the JSON header when recorded, read back, and a bad pair is one clear line") {
  Trace t;
  t.policy = "t";
  t.samples.client = {{ms(0), ms(0.25)}, {ms(2), ms(2.5)}};
  std::stringstream file;
  write_jsonl(t, {}, file);
  CHECK_THAT(file.str(), Contains("\"socket_samples\":{\"client\":[[0,250000],[2000000,2500000]],\"server\":[]}"));
  const Trace back = read_trace_jsonl(file, "t.jsonl");
  CHECK(back.samples.client.size() == 2);
  CHECK(back.samples.client[1].end == ms(2.5));
  CHECK(back.samples.server.empty());

  std::string text = file.str();
  text.replace(text.find("[2000000,2500000]"), 17, "[2000000,1000000]");
  std::stringstream bad(text);
  try {
    (void)read_trace_jsonl(bad, "t.jsonl");
    FAIL("a sample that ends before it starts was read");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(), Contains("t.jsonl:1: "));
    CHECK_THAT(e.what(), Contains("holds [2000000,1000000]: a sample ends before it starts"));
  }
  std::stringstream without;
  write_jsonl(Trace{}, {}, without);
  CHECK_THAT(without.str(), !Contains("socket_samples"));
}
