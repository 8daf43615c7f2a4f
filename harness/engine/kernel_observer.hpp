#pragma once
// Kernel truth, exact: turns the BPF observer's records (every state change, retransmission and
// reset of the run's sockets) into trace events, read on the run's io_context.
#include <chrono>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "lastack/trace.hpp"
#include "harness/core/trace/twin_events.hpp"
#include "harness/engine/run_clock.hpp"
#include "lastack/asio.hpp"
#include "harness/sys/observe/bpf_observer.hpp"

namespace lastack {

/// Why the kernel retransmitted, from icsk_pending at that moment (include/net/inet_connection_sock.h):
/// 0 the RTO timer fired (cleared before tcp_retransmit_timer), ICSK_TIME_LOSS_PROBE a tail-loss
/// probe, anything else ACK processing (fast retransmit, SACK/RACK recovery).
RetransmitCause retransmit_cause(std::uint8_t icsk_pending);

/// The trace event one record stands for, on the run's clock; `jiffy` turns the timer's
/// lateness (in jiffies) into time.
TraceEvent to_trace_event(const sys::KernelRecord& r, const RunClock& clock, std::chrono::microseconds jiffy);

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
  const std::vector<TraceEvent>& events() const { return events_; }
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
  void give_ports(SocketCookie socket, std::size_t index);

  const RunClock& clock_;
  sys::BpfObserver bpf_;
  asio::posix::stream_descriptor ready_;
  std::vector<TraceEvent> events_;
  TwinPairing twins_;  // the twin state-change programs' copies, paired
  // A socket changes state before its port is chosen (SYN_SENT) and after it is released
  // (CLOSE): those changes take the ports the same socket (cookie) had or gets next.
  std::map<SocketCookie, std::pair<std::uint16_t, std::uint16_t>> ports_of_socket_;
  std::map<SocketCookie, std::vector<std::size_t>> portless_;  // indices into events_
  bool stopped_ = false;
  std::uint64_t read_ = 0;  // records read from the ring, twins included
};

}  // namespace lastack
