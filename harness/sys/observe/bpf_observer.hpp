#pragma once
// The kernel observer's BPF side: raw tracepoints on TCP state changes, retransmissions and
// resets, filtered in the kernel to two namespaces, read from a ring buffer. Everything is held
// by file descriptors only (nothing pinned or named), so it dies with this object or the process.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "lastack/roles.hpp"
#include "lastack/tcp_state.hpp"
#include "harness/sys/net/netns.hpp"

namespace lastack::sys {

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

/// How often the kernel skipped a program because it was already running on that CPU (a
/// tracepoint hit from softirq context interrupting it): each skip is an event not recorded.
struct ProgramMisses {
  std::uint64_t state = 0, state_twin = 0;  // the twin state-change programs (each skip is caught by the other, normally)
  std::uint64_t other = 0;                  // retransmissions, SYN-ACKs, resets: lost outright
};

/// Loaded and attached BPF tracepoint programs; move-only.
class BpfObserver {
 public:
  /// Let the programs see only sockets in `client` and `server`. The programs are loaded and
  /// attached once per process and kept between runs with an empty namespace map (recording
  /// nothing, held by fds only); this object takes an idle set or loads one, and gives it back
  /// emptied on destruction. Counters (lost, misses) count from this call.
  /// Throws EnvironmentError with one line when the kernel refuses.
  static BpfObserver open(const NetNamespace& client, const NetNamespace& server);
  BpfObserver(BpfObserver&&) noexcept;
  BpfObserver& operator=(BpfObserver&&) noexcept;
  ~BpfObserver();

  /// A descriptor that is readable while records wait (the ring buffer's epoll fd; owned here).
  int ready_fd() const;
  /// Hand every record waiting now to `sink`, in the order written; returns how many.
  std::size_t consume(const std::function<void(const KernelRecord&)>& sink);
  /// Records the kernel could not write because the ring buffer was full.
  std::uint64_t lost() const;
  /// Records the kernel wrote into the ring buffer since open().
  std::uint64_t written() const;
  /// The programs' recursion misses so far (bpf_prog_info.recursion_misses).
  ProgramMisses misses() const;
  /// The running kernel's CONFIG_HZ, as libbpf resolved it for the programs.
  unsigned long hz() const;

 private:
  struct Impl;
  explicit BpfObserver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The nsfs inode number of a namespace (what the kernel's net->ns.inum holds).
std::uint32_t namespace_inode(const NetNamespace& ns);

}  // namespace lastack::sys
