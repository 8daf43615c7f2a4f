#pragma once
// The interceptor's port to the kernel: one NFQUEUE queue, read and answered over
// nfnetlink (libmnl API of libnetfilter_queue). Fail closed: a packet is never let through
// unless a verdict says so.
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "harness/sys/proc/fd.hpp"
#include "harness/sys/net/netns.hpp"

namespace lastack::sys {

/// One packet waiting for a verdict; `payload` is valid only during the receive() callback.
struct QueuedPacket {
  std::uint32_t id = 0;                    // the kernel's packet id, for the verdict
  std::span<const std::uint8_t> payload;   // the IP packet, cut at the copy range
  std::uint32_t full_length = 0;           // the packet's real length (> payload.size() when cut)
  bool checksum_ready = true;              // false: the TCP checksum holds only the pseudo-header sum
};

/// The kernel's counters for this queue (/proc/net/netfilter/nfnetlink_queue).
struct QueueStats {
  std::uint64_t queue_dropped = 0;  // dropped because the queue was full (maxlen)
  std::uint64_t user_dropped = 0;   // dropped because the netlink socket buffer was full
  std::uint32_t queue_total = 0;    // waiting for a verdict now
};

/// One NFQUEUE queue bound by this process in one namespace; move-only, unbound on destruction
/// (the kernel drops the packets still waiting for a verdict).
class NfQueuePort {
 public:
  /// Bind queue `queue_num` in `ns`, copying the first `copy_range` bytes of each packet
  /// (0 = the whole packet). Throws HarnessError if the queue is taken or the kernel refuses.
  static NfQueuePort open_in(const NetNamespace& ns, std::uint16_t queue_num, std::uint32_t copy_range);

  NfQueuePort(NfQueuePort&&) noexcept = default;
  NfQueuePort& operator=(NfQueuePort&&) noexcept = default;
  NfQueuePort(const NfQueuePort&) = delete;
  NfQueuePort& operator=(const NfQueuePort&) = delete;
  ~NfQueuePort() = default;

  /// The non-blocking netlink socket, for asio::posix::stream_descriptor::async_wait(wait_read).
  int fd() const { return socket_.get(); }
  /// The queue number bound.
  std::uint16_t queue_num() const { return queue_num_; }

  /// Read every message currently available (non-blocking) and call on_packet for each; returns the count.
  /// Stops after about a thousand messages under a flood: the fd then stays readable.
  std::size_t receive(const std::function<void(const QueuedPacket&)>& on_packet);

  /// Let packet `id` through now.
  void accept(std::uint32_t id);
  /// Drop packet `id` now.
  void drop(std::uint32_t id);
  /// Accept every packet with an id <= `id` that has no verdict yet (held packets included).
  void accept_up_to(std::uint32_t id);

  /// The kernel's counters for this queue, read now.
  QueueStats stats() const;
  /// Times the socket buffer overflowed (ENOBUFS) since open: packets lost to userspace.
  std::uint64_t receive_overruns() const { return overruns_; }
  /// Verdicts the kernel rejected (reported back as netlink errors, e.g. an unknown id).
  std::uint64_t verdict_errors() const { return verdict_errors_; }

 private:
  NfQueuePort(UniqueFd socket, UniqueFd stats_file, std::uint16_t queue_num, std::uint32_t copy_range);
  /// Send one verdict message of type `msg_type` (single or batch).
  void send_verdict(std::uint16_t msg_type, std::uint32_t id, std::uint32_t verdict);
  /// Handle the netlink messages in one datagram; returns the packets delivered.
  std::size_t dispatch(const std::uint8_t* data, std::size_t len,
                       const std::function<void(const QueuedPacket&)>& on_packet);

  UniqueFd socket_;
  UniqueFd stats_file_;  // opened inside the namespace: proc/net files keep the namespace they were opened in
  std::uint16_t queue_num_ = 0;
  std::size_t slot_size_ = 0;             // room for one message: copy range + attributes
  std::vector<std::uint8_t> rx_buffer_;   // slots for one recvmmsg() call
  std::vector<struct iovec> rx_iov_;
  std::vector<struct mmsghdr> rx_msgs_;
  std::uint64_t overruns_ = 0;
  std::uint64_t verdict_errors_ = 0;
};

}  // namespace lastack::sys
