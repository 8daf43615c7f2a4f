#pragma once
// Which segments a run's interceptor sees (RunOptions::capture).
#include <cstdint>

namespace lastack {

enum class Capture : std::uint8_t {
  all,        // the default: every TCP segment through one queue, so verdicts keep the wire's order
  selective,  // only segments a fault rule or the flow tracker needs (SYN/FIN/RST, pure ACKs, and data
              // only when a rule selects data): unqueued data can overtake a queued segment still
              // in userspace (~100 µs), which the whole-wire capture reports as a harness error
  none,       // nothing: the plain routed veth path, for benchmarks (fault-free policies only)
};

}  // namespace lastack
