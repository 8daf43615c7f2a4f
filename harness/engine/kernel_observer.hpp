#pragma once
// Kernel truth, exact: turns the BPF observer's records (every state change, retransmission and
// reset of the run's sockets) into trace events (core/kernel_record), read on the run's io_context.
#include <chrono>
#include <cstdint>
#include <vector>

#include "lastack/trace.hpp"
#include "harness/core/trace/kernel_record.hpp"
#include "harness/engine/run_clock.hpp"
#include "lastack/asio.hpp"
#include "harness/sys/observe/bpf_observer.hpp"

namespace lastack {

class KernelObserver {
 public:
  /// Read `bpf`'s records on `io` from start() until stop().
  KernelObserver(asio::io_context& io, const RunClock& clock, sys::BpfObserver bpf);

  /// Start reading records as they arrive.
  void start();
  /// Read every record still waiting, then stop.
  void stop();
  /// Read every record waiting now (also after stop()).
  void drain();

  /// Every event seen, in the order the kernel wrote them.
  const std::vector<TraceEvent>& events() const { return log_.events(); }
  /// Events the kernel dropped because the ring buffer was full (then the trace is incomplete).
  std::uint64_t lost() const { return bpf_.lost(); }
  /// Records the kernel wrote that were never read (call after the last drain()).
  std::uint64_t unread() const { return bpf_.written() > read_ ? bpf_.written() - read_ : 0; }
  /// Events the kernel never recorded because it skipped a program already running on that CPU
  /// and (for state changes) its twin missed the same change; call after the last drain().
  std::uint64_t skipped() const;
  /// One tick of the kernel's timer wheel (1 / CONFIG_HZ).
  std::chrono::microseconds jiffy() const { return std::chrono::microseconds(1'000'000 / bpf_.hz()); }

 private:
  void wait_readable();
  void add(const sys::KernelRecord& r);

  const RunClock& clock_;
  sys::BpfObserver bpf_;
  asio::posix::stream_descriptor ready_;
  KernelEventLog log_;  // the records as trace events (core/kernel_record)
  bool stopped_ = false;
  std::uint64_t read_ = 0;  // records read from the ring, twins included
};

}  // namespace lastack
