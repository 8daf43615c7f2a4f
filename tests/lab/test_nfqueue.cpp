// The NFQUEUE port and the raw injector against the kernel: TCP over loopback inside one
// namespace, with iptables sending its segments to the queue.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <deque>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lastack/error.hpp"
#include "lastack/segment.hpp"
#include "harness/sys/net/iptables.hpp"
#include "harness/sys/net/netns.hpp"
#include "harness/sys/net/nfqueue.hpp"
#include "harness/sys/net/raw_injector.hpp"
#include "harness/sys/net/sysctl.hpp"
#include "loopback_sockets.hpp"

using namespace std::chrono_literals;
using namespace lastack;
using namespace lastack::sys;
using namespace lastack::test;

namespace {

using Clock = std::chrono::steady_clock;

/// Send every packet matching `match` on `chain` to queue 0, for IPv4 and IPv6.
void queue_rule(const NetNamespace& ns, const std::string& chain, const std::string& match) {
  const std::string script = "*filter\n-A " + chain + " " + match + " -j NFQUEUE --queue-num 0\nCOMMIT\n";
  apply_iptables(ns, script, false);
  apply_iptables(ns, script, true);
}

/// A queued packet, copied out of the receive callback.
struct Seen {
  std::uint32_t id = 0;
  Segment segment;
  std::vector<std::uint8_t> bytes;
  std::uint32_t full_length = 0;
  bool checksum_ready = true;
  Clock::time_point at;
};

/// Hands out queued packets one at a time, without giving verdicts.
class QueueReader {
 public:
  explicit QueueReader(NfQueuePort& port) : port_(port) {}

  /// The next queued packet, waiting up to `timeout`.
  std::optional<Seen> next(std::chrono::milliseconds timeout = 3s) {
    const auto deadline = Clock::now() + timeout;
    while (pending_.empty() && Clock::now() < deadline) {
      if (!wait_for(port_.fd(), POLLIN, 20ms)) continue;
      port_.receive([this](const QueuedPacket& p) {
        Seen s;
        s.id = p.id;
        s.bytes.assign(p.payload.begin(), p.payload.end());
        s.segment = parse_segment(p.payload);
        s.full_length = p.full_length;
        s.checksum_ready = p.checksum_ready;
        s.at = Clock::now();
        pending_.push_back(std::move(s));
      });
    }
    if (pending_.empty()) return std::nullopt;
    Seen s = std::move(pending_.front());
    pending_.pop_front();
    return s;
  }

  /// The next queued packet, which must come.
  Seen require_next(std::chrono::milliseconds timeout = 3s) {
    auto s = next(timeout);
    REQUIRE(s.has_value());
    return std::move(*s);
  }

  /// Accept every packet that arrives within `window`; how many there were.
  std::size_t pass_all(std::chrono::milliseconds window) {
    std::size_t passed = 0;
    const auto deadline = Clock::now() + window;
    while (Clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (auto s = next(left)) {
        port_.accept(s->id);
        ++passed;
      }
    }
    return passed;
  }

 private:
  NfQueuePort& port_;
  std::deque<Seen> pending_;
};

/// A TcpExt counter (/proc/net/netstat) of namespace `ns`.
std::uint64_t tcp_ext_counter(const NetNamespace& ns, const std::string& name) {
  std::ifstream in = in_netns(ns, [] { return std::ifstream("/proc/thread-self/net/netstat"); });
  REQUIRE(in.good());
  std::string names, values;
  while (std::getline(in, names) && std::getline(in, values)) {
    if (names.rfind("TcpExt:", 0) != 0) continue;
    std::istringstream n(names), v(values);
    std::string key, value;
    while (n >> key && v >> value)
      if (key == name) return std::stoull(value);
  }
  FAIL("no TcpExt counter " << name);
  return 0;
}

const char* family_name(IpFamily f) { return f == IpFamily::v4 ? "IPv4" : "IPv6"; }

}  // namespace

TEST_CASE("queued segments arrive whole, with parseable headers, and pass when accepted") {
  const IpFamily family = GENERATE(IpFamily::v4, IpFamily::v6);
  INFO(family_name(family));
  const NetNamespace ns = loopback_namespace();
  NfQueuePort port = NfQueuePort::open_in(ns, 0, 0);
  queue_rule(ns, "OUTPUT", "-p tcp");
  QueueReader queue(port);
  const UniqueFd listener = tcp_listener(ns, family);
  const std::uint16_t server_port = local_port(listener.get());
  const UniqueFd client = tcp_connect_start(ns, family, server_port);

  const Seen syn = queue.require_next();
  CHECK(syn.segment.flags.bits == TcpFlags::SYN);
  CHECK(syn.segment.dport == server_port);
  CHECK(syn.segment.src == loopback_address(family));
  CHECK(syn.full_length == syn.bytes.size());
  CHECK(syn.bytes[0] >> 4 == (family == IpFamily::v4 ? 4 : 6));
  port.accept(syn.id);

  const Seen syn_ack = queue.require_next();
  CHECK(syn_ack.segment.flags.bits == (TcpFlags::SYN | TcpFlags::ACK));
  CHECK(syn_ack.segment.sport == server_port);
  CHECK(syn_ack.segment.ack == syn.segment.seq + 1);
  CHECK(syn_ack.id > syn.id);
  port.accept(syn_ack.id);

  const Seen ack = queue.require_next();
  CHECK(ack.segment.flags.bits == TcpFlags::ACK);
  port.accept(ack.id);

  CHECK(tcp_accept(listener.get(), 2s).valid());
  CHECK(port.verdict_errors() == 0);
}

TEST_CASE("the copy range cuts the payload but full_length tells the real size") {
  const NetNamespace ns = loopback_namespace();
  NfQueuePort port = NfQueuePort::open_in(ns, 0, 100);
  queue_rule(ns, "OUTPUT", "-p tcp");
  QueueReader queue(port);
  const UniqueFd listener = tcp_listener(ns, IpFamily::v4);
  const UniqueFd client = tcp_connect_start(ns, IpFamily::v4, local_port(listener.get()));
  for (int i = 0; i < 3; ++i) port.accept(queue.require_next().id);  // the handshake
  const UniqueFd server = tcp_accept(listener.get(), 1s);
  REQUIRE(server.valid());

  const std::string data(500, 'x');
  REQUIRE(::write(client.get(), data.data(), data.size()) == 500);
  const Seen segment = queue.require_next();
  CHECK(segment.bytes.size() == 100);
  CHECK(segment.full_length == 20 + 32 + 500);  // IPv4, TCP with timestamps, payload
  CHECK(segment.segment.payload_len == 500);     // from the IP header, not the copy
  port.accept(segment.id);
  CHECK(read_exactly(server.get(), 500, 1s));
}

TEST_CASE("a dropped SYN is retransmitted with the same sequence number") {
  const NetNamespace ns = loopback_namespace();
  NfQueuePort port = NfQueuePort::open_in(ns, 0, 0);
  queue_rule(ns, "OUTPUT", "-p tcp");
  QueueReader queue(port);
  const UniqueFd listener = tcp_listener(ns, IpFamily::v4);
  const UniqueFd client = tcp_connect_start(ns, IpFamily::v4, local_port(listener.get()));

  const Seen first = queue.require_next();
  REQUIRE(first.segment.flags.syn());
  port.drop(first.id);

  const Seen again = queue.require_next(3s);
  CHECK(again.segment.flags.bits == TcpFlags::SYN);
  CHECK(again.segment.seq == first.segment.seq);
  CHECK(again.at - first.at > 800ms);  // the initial RTO of a SYN is one second
  port.accept(again.id);
  queue.pass_all(200ms);
  CHECK(tcp_accept(listener.get(), 1s).valid());
}

TEST_CASE("stats() counts the packets waiting for a verdict") {
  const NetNamespace ns = loopback_namespace();
  NfQueuePort port = NfQueuePort::open_in(ns, 0, 0);
  queue_rule(ns, "OUTPUT", "-p tcp");
  QueueReader queue(port);
  CHECK(port.stats().queue_total == 0);
  const UniqueFd listener = tcp_listener(ns, IpFamily::v4);
  const UniqueFd client = tcp_connect_start(ns, IpFamily::v4, local_port(listener.get()));

  const Seen syn = queue.require_next();
  const QueueStats held = port.stats();
  CHECK(held.queue_total == 1);
  CHECK(held.queue_dropped == 0);
  CHECK(held.user_dropped == 0);
  port.drop(syn.id);
  CHECK(port.stats().queue_total == 0);
}

TEST_CASE("accept_up_to releases every earlier packet still waiting") {
  const NetNamespace ns = loopback_namespace();
  // Autocorking would merge the writes while the first segment sits in the queue.
  write_sysctl(ns, "net.ipv4.tcp_autocorking", "0");
  NfQueuePort port = NfQueuePort::open_in(ns, 0, 0);
  queue_rule(ns, "OUTPUT", "-p tcp");
  QueueReader queue(port);
  const UniqueFd listener = tcp_listener(ns, IpFamily::v4);
  const UniqueFd client = tcp_connect_start(ns, IpFamily::v4, local_port(listener.get()));
  for (int i = 0; i < 3; ++i) port.accept(queue.require_next().id);  // the handshake
  const UniqueFd server = tcp_accept(listener.get(), 1s);
  REQUIRE(server.valid());
  const int one = 1;
  REQUIRE(::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0);

  const std::string chunk(100, 'x');
  std::vector<Seen> data;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(::write(client.get(), chunk.data(), chunk.size()) == 100);
    data.push_back(queue.require_next());
    CHECK(data.back().segment.payload_len == 100);
  }
  CHECK(port.stats().queue_total == 3);
  CHECK_FALSE(read_exactly(server.get(), 1, 50ms));

  port.accept_up_to(data.back().id);
  CHECK(read_exactly(server.get(), 300, 1s));
  queue.pass_all(100ms);  // the server's ACKs
  CHECK(port.stats().queue_total == 0);
  CHECK(port.verdict_errors() == 0);
}

TEST_CASE("a verdict for an unknown packet id is counted as a verdict error") {
  const NetNamespace ns = loopback_namespace();
  NfQueuePort port = NfQueuePort::open_in(ns, 0, 0);
  port.accept(12345);
  CHECK(port.receive([](const QueuedPacket&) {}) == 0);
  CHECK(port.verdict_errors() == 1);
}

TEST_CASE("a second port on a bound queue number is refused") {
  const NetNamespace ns = loopback_namespace();
  NfQueuePort first = NfQueuePort::open_in(ns, 7, 0);
  CHECK_THROWS_AS(NfQueuePort::open_in(ns, 7, 0), HarnessError);
  CHECK(first.queue_num() == 7);
  NfQueuePort other = NfQueuePort::open_in(ns, 8, 0);  // another number is free
  CHECK(other.stats().queue_total == 0);
}

TEST_CASE("an injected duplicate reaches the receiver's TCP, which keeps working") {
  const IpFamily family = GENERATE(IpFamily::v4, IpFamily::v6);
  INFO(family_name(family));
  const NetNamespace ns = loopback_namespace();
  NfQueuePort port = NfQueuePort::open_in(ns, 0, 0);
  RawInjector injector = RawInjector::open_in(ns);
  const UniqueFd listener = tcp_listener(ns, family);
  const std::uint16_t server_port = local_port(listener.get());
  // Only what reaches the server: the duplicate passes OUTPUT unqueued and shows up here.
  queue_rule(ns, "INPUT", "-p tcp --dport " + std::to_string(server_port));
  QueueReader queue(port);
  const UniqueFd client = tcp_connect_start(ns, family, server_port);
  for (int i = 0; i < 2; ++i) port.accept(queue.require_next().id);  // SYN, handshake ACK
  const UniqueFd server = tcp_accept(listener.get(), 1s);
  REQUIRE(server.valid());

  const std::uint64_t old_data_before = tcp_ext_counter(ns, "DelayedACKLost");
  REQUIRE(::write(client.get(), "0123456789", 10) == 10);
  const Seen original = queue.require_next();
  REQUIRE(original.segment.payload_len == 10);
  port.accept(original.id);
  REQUIRE(read_exactly(server.get(), 10, 1s));

  injector.inject(original.bytes);
  const Seen copy = queue.require_next();
  CHECK(copy.segment.seq == original.segment.seq);
  CHECK(copy.segment.payload_len == 10);
  CHECK(copy.checksum_ready);
  port.accept(copy.id);
  // TCP took the copy as old data (so its checksum was right) and acknowledged it again.
  for (int i = 0; i < 50 && tcp_ext_counter(ns, "DelayedACKLost") == old_data_before; ++i)
    std::this_thread::sleep_for(10ms);
  CHECK(tcp_ext_counter(ns, "DelayedACKLost") == old_data_before + 1);
  CHECK_FALSE(read_exactly(server.get(), 1, 50ms));  // delivered once

  REQUIRE(::write(client.get(), "abcde", 5) == 5);
  port.accept(queue.require_next().id);
  CHECK(read_exactly(server.get(), 5, 1s));
}

TEST_CASE("the injector refuses packets it cannot send whole") {
  const NetNamespace ns = loopback_namespace();
  RawInjector injector = RawInjector::open_in(ns);
  const std::vector<std::uint8_t> not_ip{0x00, 0x01, 0x02};
  CHECK_THROWS_AS(injector.inject(not_ip), HarnessError);
  // An IPv4 header claiming 60 bytes, with only 20 present.
  std::vector<std::uint8_t> cut(20, 0);
  cut[0] = 0x45;
  cut[3] = 60;
  CHECK_THROWS_WITH(injector.inject(cut), Catch::Contains("truncated"));
}

// Informational: how many packets per second the receive + verdict loop passes.
// Run with: lab_tests "[bench]"
TEST_CASE("NFQUEUE pass rate under a UDP flood", "[.][bench]") {
  const NetNamespace ns = loopback_namespace();
  const UniqueFd sink(in_netns(ns, [] { return ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); }));
  const UniqueFd source(in_netns(ns, [] { return ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); }));
  sockaddr_storage to;
  const socklen_t to_len = loopback_sockaddr(IpFamily::v4, 0, to);
  REQUIRE(::bind(sink.get(), reinterpret_cast<sockaddr*>(&to), to_len) == 0);
  loopback_sockaddr(IpFamily::v4, local_port(sink.get()), to);
  apply_iptables(ns, "*filter\n-A OUTPUT -p udp -j NFQUEUE --queue-num 0\nCOMMIT\n", false);

  for (const bool batch : {true, false}) {
    NfQueuePort port = NfQueuePort::open_in(ns, 0, 128);
    std::atomic<bool> stop{false};
    std::thread flood([&] {
      const char payload[64] = {};
      // Never block: queued packets hold the socket's send buffer until they get a verdict.
      while (!stop.load(std::memory_order_relaxed))
        (void)::sendto(source.get(), payload, sizeof payload, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to),
                       to_len);
    });
    std::uint64_t passed = 0;
    const auto start = Clock::now();
    while (Clock::now() - start < 2s) {
      if (!wait_for(port.fd(), POLLIN, 100ms)) continue;
      std::uint32_t last = 0;
      const std::size_t n = port.receive([&](const QueuedPacket& p) {
        if (batch)
          last = p.id;
        else
          port.accept(p.id);
      });
      if (batch && n > 0) port.accept_up_to(last);
      passed += n;
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    stop = true;
    flood.join();
    const QueueStats stats = port.stats();
    WARN((batch ? "batch verdicts: " : "single verdicts: ")
         << static_cast<std::uint64_t>(passed / seconds) << " packets/s passed; kernel dropped "
         << stats.queue_dropped << " (queue full), " << stats.user_dropped << " (socket full); overruns "
         << port.receive_overruns());
    CHECK(passed > 0);
    CHECK(port.verdict_errors() == 0);
  }
}
