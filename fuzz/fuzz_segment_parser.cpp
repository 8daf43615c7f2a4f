// libFuzzer target: IP packet bytes -> Segment (parse_segment) or ParseError. A segment that
// parses is also classified by a FlowTracker and printed, as the interceptor and the ladder do.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/fuzz_support.hpp"
#include "lastack/error.hpp"
#include "lastack/flow_tracker.hpp"
#include "lastack/segment.hpp"

using namespace lastack;

namespace {

// What parse_segment promises about a segment it returns.
void check(const Segment& seg, std::size_t packet_size) {
  fuzz::require(seg.tcp_header_len >= 20 && seg.tcp_header_len <= 60, "TCP header length outside 20..60");
  fuzz::require(std::size_t(seg.ip_header_len) + seg.tcp_header_len <= packet_size,
                "headers reported longer than the packet");
  fuzz::require(IpAddress::parse(seg.src.str()) == seg.src, "source address does not read back from its text");
  fuzz::require(IpAddress::parse(seg.dst.str()) == seg.dst, "destination address does not read back from its text");
  (void)seg.flags.tcpdump();
  (void)seg.flags.names();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> packet(data, size);
  fuzz::expect_only<ParseError>([&] {
    const Segment seg = parse_segment(packet);
    check(seg, size);
    // Seen from either side, then again (a retransmission) by one tracker.
    for (const IpAddress& client : {seg.src, seg.dst}) {
      FlowTracker tracker({client});
      (void)tracker.observe(seg);
      (void)tracker.observe(seg);
    }
  });
  return 0;
}
