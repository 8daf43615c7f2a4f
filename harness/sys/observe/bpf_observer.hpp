#pragma once
// The kernel observer's BPF side: raw tracepoints on TCP state changes, retransmissions and
// resets, filtered in the kernel to two namespaces, read from a ring buffer. Everything is held
// by file descriptors only (nothing pinned or named), so it dies with this object or the process.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "harness/core/trace/kernel_record.hpp"
#include "lastack/roles.hpp"
#include "lastack/tcp_state.hpp"
#include "harness/sys/net/netns.hpp"

namespace lastack::sys {

/// One record from the kernel, as the BPF program wrote it (core/kernel_record turns it into a trace event).
using KernelRecord = lastack::KernelRecord;

/// How often the kernel skipped a program because it was already running on that CPU (a
/// tracepoint hit from softirq context interrupting it): each skip is an event not recorded.
struct ProgramMisses {
  std::uint64_t state = 0, state_twin = 0;  // the twin state-change programs (each skip is caught by the other, normally)
  std::uint64_t other = 0;                  // retransmissions, SYN-ACKs, resets: lost outright
};

/// Loaded and attached BPF tracepoint programs; move-only.
class BpfObserver {
 public:
  /// Let the programs see only sockets in `client` and `server` (the same namespace twice: every
  /// record says client). The programs are loaded and
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
