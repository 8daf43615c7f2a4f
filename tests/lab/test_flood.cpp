// Faults under load: a burst into the wire's queue while the interceptor is not reading. Every
// segment queued gets exactly one verdict, what overflowed the queue is counted and makes the
// run a harness error (exit 4), and the queue fails closed: what the policy drops, and what the
// kernel could not queue, never reaches the server.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "lastack/error.hpp"
#include "harness/core/wire/segment_builder.hpp"
#include "harness/engine/interceptor.hpp"
#include "harness/engine/lab.hpp"
#include "harness/cli/run_outcome.hpp"
#include "harness/sys/proc/fd.hpp"
#include "harness/sys/net/raw_injector.hpp"

using namespace std::chrono_literals;
using namespace lastack;

namespace {

constexpr std::uint16_t kPort = 9;             // nothing listens: the server's kernel would answer RST
constexpr std::size_t kQueueMaxLen = 4096;     // NfQueuePort's queue length

/// A policy with one fault on every segment (drop), or none (pass).
Policy flood_policy(bool drop) {
  Policy p;
  p.file = "flood.toml";
  if (drop) {
    FaultRule r;
    r.action = ActionKind::drop;
    r.line = 1;
    p.faults.push_back(r);
  }
  return p;
}

/// The wire's queue counters: waiting for a verdict now, dropped (queue full), dropped (socket full).
struct Counters {
  unsigned waiting = 0, queue_dropped = 0, user_dropped = 0;
};

Counters queue_counters(const sys::NetNamespace& wire) {
  return sys::in_netns(wire, [] {
    std::ifstream in("/proc/thread-self/net/netfilter/nfnetlink_queue");
    Counters c;
    unsigned queue = 0, portid = 0, mode = 0, range = 0;
    in >> queue >> portid >> c.waiting >> mode >> range >> c.queue_dropped >> c.user_dropped;
    return c;
  });
}

/// A raw TCP socket in the server namespace: a copy of every TCP segment delivered there.
sys::UniqueFd delivery_counter(const sys::NetNamespace& server) {
  sys::UniqueFd fd(sys::in_netns(server, [] { return ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_TCP); }));
  REQUIRE(fd.valid());
  int bytes = 64 << 20;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes);
  return fd;
}

/// Segments to kPort delivered to the server so far.
std::size_t delivered(int fd) {
  std::size_t n = 0;
  std::uint8_t buffer[128];
  for (;;) {
    const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got < 0) return n;
    const std::size_t ihl = (buffer[0] & 0x0f) * 4u;
    if (got >= static_cast<ssize_t>(ihl + 4) && ((buffer[ihl + 2] << 8) | buffer[ihl + 3]) == kPort) ++n;
  }
}

struct FloodResult {
  std::size_t queued = 0;  // segments from the client the interceptor logged (each got its verdict)
  std::size_t arrived = 0;
  std::uint64_t drops = 0;  // the interceptor's count of what the kernel could not queue
  Counters after;
  bool all_dropped_by_policy = true;
};

/// Send `count` SYNs from the client while the interceptor is not reading, then let it run.
FloodResult flood(std::size_t count, bool drop) {
  const Policy policy = flood_policy(drop);
  LabConfig config;
  config.queue_rules = compile_queue_plan(policy, Capture::all, 0, false);
  Lab lab(config);
  asio::io_context io;
  RunClock clock;
  Interceptor interceptor(io, clock, sys::NfQueuePort::open_in(lab.wire(), 0, 256), sys::RawInjector::open_in(lab.wire()),
                          FlowTracker({lab.addresses().endpoint.client}), policy, 0, {});
  lab.apply_queue_rules();
  const sys::UniqueFd counter = delivery_counter(lab.server());
  sys::RawInjector sender = sys::RawInjector::open_in(lab.client());
  for (std::size_t i = 0; i < count; ++i) {
    SegmentSpec spec;
    spec.src = lab.addresses().endpoint.client;
    spec.dst = lab.addresses().endpoint.server;
    spec.sport = static_cast<std::uint16_t>(20000 + i % 40000);
    spec.dport = kPort;
    spec.seq = SeqNum(static_cast<std::uint32_t>(i));
    spec.flags.bits = TcpFlags::SYN;
    spec.window = 1024;
    sender.inject(build_segment(spec));
  }
  interceptor.start();
  io.run_for(1500ms);
  interceptor.stop();
  ::poll(nullptr, 0, 50);  // the last verdicts' segments cross to the server
  FloodResult r;
  for (const WireEvent& e : interceptor.events())
    if (e.segment.src == lab.addresses().endpoint.client) {
      ++r.queued;
      if (e.fate != Fate::dropped) r.all_dropped_by_policy = false;
    }
  r.arrived = delivered(counter.get());
  r.drops = interceptor.queue_drops();
  r.after = queue_counters(lab.wire());
  return r;
}

int exit_code_with_drops(std::uint64_t drops) {
  Trace trace;
  trace.queue_drops = drops;
  std::string text;
  int code = 0;
  fail_on_harness_errors(trace, {}, text, code);
  return code;
}

}  // namespace

TEST_CASE("a burst the queue holds: every segment gets one verdict, dropped ones never arrive", "[flood][interceptor]") {
  for (const bool drop : {true, false}) {
    INFO((drop ? "drop every segment" : "pass every segment"));
    const FloodResult r = flood(3000, drop);
    CHECK(r.drops == 0);
    CHECK(r.queued == 3000);
    CHECK(r.after.waiting == 0);  // no verdict lost: nothing left waiting in the kernel
    if (drop) {
      CHECK(r.all_dropped_by_policy);
      CHECK(r.arrived == 0);
    } else {
      CHECK(r.arrived == 3000);
    }
  }
}

TEST_CASE("a burst that overflows the queue is counted, fails closed, and makes the run exit 4", "[flood][interceptor]") {
  for (const bool drop : {true, false}) {
    INFO((drop ? "drop every segment" : "pass every segment"));
    const std::size_t sent = kQueueMaxLen + 2000;
    const FloodResult r = flood(sent, drop);
    // The kernel queued what fit and dropped the rest (queue full): nothing was let through
    // unexamined, and every segment is accounted for, by a verdict or by the drop counter.
    CHECK(r.queued <= kQueueMaxLen);
    CHECK(r.drops > 0);
    CHECK(r.drops == r.after.queue_dropped + r.after.user_dropped);
    CHECK(r.queued + r.drops == sent);
    CHECK(r.after.waiting == 0);
    if (drop) {
      CHECK(r.all_dropped_by_policy);
      CHECK(r.arrived == 0);
    } else {
      CHECK(r.arrived == r.queued);
    }
    CHECK(exit_code_with_drops(r.drops) == static_cast<int>(ExitCode::harness));
  }
}
