#pragma once
// The kernel observer's records (the BPF programs' ring buffer, harness/bpf/kernel_events.h, as
// harness/sys/observe/bpf_observer reads them) and the trace events they stand for. Pure: the
// record's time comes in already on the run's clock.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "lastack/clock.hpp"
#include "lastack/roles.hpp"
#include "lastack/tcp_state.hpp"
#include "harness/core/trace/twin_events.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// One record from the kernel, as the BPF program wrote it.
struct KernelRecord {
  enum class Kind : std::uint8_t { state, retransmit, synack, reset_sent, reset_received };
  Kind kind = Kind::state;
  std::chrono::nanoseconds monotonic{0};  // bpf_ktime_get_ns(): CLOCK_MONOTONIC
  std::uint64_t cookie = 0;               // the socket's cookie (sock_diag's idiag_cookie); 0: none
  Side side = Side::client;
  std::uint16_t local_port = 0, remote_port = 0;
  TcpState state = TcpState::CLOSE;      // state changes: from; otherwise the socket's state
  TcpState new_state = TcpState::CLOSE;  // state changes: to
  std::uint32_t seq = 0;                 // retransmissions: first sequence number resent; state changes: snd_una
  std::uint32_t rcv_nxt = 0;             // state changes
  std::uint32_t end_seq = 0;             // retransmissions: the end of what the skb resent
  std::uint16_t segments = 1;            // retransmissions: the segments one skb resent (tcp_skb_pcount)
  std::uint8_t pending = 0;              // retransmit: icsk_pending (ICSK_TIME_*) at that moment
  std::uint8_t backoff = 0;              // icsk_backoff; SYN-ACK: the request's timeouts so far
  std::chrono::microseconds rto{0};      // icsk_rto; SYN-ACK: the request's base timeout
  std::int32_t timer_late = 0;           // jiffies now minus the retransmission timer's expiry
  bool full_socket = false;              // resets: a full socket sent or received it
  std::int32_t error = 0;                // state changes: sk_err; retransmissions: the transmit's result
  bool peer_fin = false;                 // state changes: SOCK_DONE, the peer's FIN accepted
  bool orphan = false;                   // state changes: SOCK_DEAD, the application closed it
  std::optional<TcpState> timewait_substate;  // resets sent by a timewait socket: its substate
  std::uint16_t reason = 0;              // resets sent: the kernel's enum sk_rst_reason
  std::uint8_t copy = 0;                 // state changes: which of the twin programs wrote it
};

/// Why the kernel retransmitted, from icsk_pending at that moment (include/net/inet_connection_sock.h):
/// 0 the RTO timer fired (cleared before tcp_retransmit_timer), ICSK_TIME_LOSS_PROBE (5) a
/// tail-loss probe, anything else ACK processing (fast retransmit, SACK/RACK recovery).
RetransmitCause retransmit_cause(std::uint8_t icsk_pending);

/// The trace event `r` stands for, at `at` (its CLOCK_MONOTONIC time on the run's clock): a
/// StateChange with the socket's facts, a KernelRetransmit (its cause, and how late its timer
/// ran, `timer_late` jiffies of `jiffy` each, only when a timer sent it), or a KernelReset.
TraceEvent to_trace_event(const KernelRecord& r, Instant at, std::chrono::microseconds jiffy);

/// The kernel observer's records, in the order read, as trace events: the twin state-change
/// programs' second copies are dropped (core/twin_events), and a socket's changes before its port
/// is chosen (SYN_SENT) or after it is released (CLOSE) take the ports the same socket (cookie)
/// had, or gets next.
class KernelEventLog {
 public:
  /// An empty log.
  KernelEventLog();
  /// Log record `r` at `at` (its time on the run's clock); `jiffy` as for to_trace_event.
  void add(const KernelRecord& r, Instant at, std::chrono::microseconds jiffy);
  /// Every event kept, in the order read.
  const std::vector<TraceEvent>& events() const { return events_; }
  /// State changes only one of the twin programs reported (each one skip the other counted).
  std::uint64_t unpaired() const { return twins_.unpaired(); }

 private:
  void give_ports(SocketCookie socket, std::size_t index);

  std::vector<TraceEvent> events_;
  TwinPairing twins_;
  std::map<SocketCookie, std::pair<std::uint16_t, std::uint16_t>> ports_of_socket_;
  std::map<SocketCookie, std::vector<std::size_t>> portless_;  // indices into events_, waiting for ports
};

/// The kernel observer's shortfalls at `at`, each a harness error (LabEventKind::observer_missed)
/// naming how many events are missing: records the full ring buffer `lost`, records written but
/// never `unread`, and programs the kernel `skipped` (already running on that CPU) with no twin to
/// catch it. Empty when all three are 0.
std::vector<LabEvent> kernel_observer_misses(std::uint64_t lost, std::uint64_t unread, std::uint64_t skipped,
                                             Instant at);

}  // namespace lastack
