#pragma once
// The whole wire, observed: one AF_PACKET socket in the wire namespace sees every TCP segment
// entering or leaving it on every interface, headers only, kernel-stamped, through a
// memory-mapped TPACKET_V3 ring.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "harness/sys/proc/fd.hpp"
#include "harness/sys/observe/frame_log.hpp"
#include "harness/sys/net/netns.hpp"

namespace lastack::sys {

/// A packet socket bound to every interface of one namespace; move-only, unmapped and closed
/// on destruction. Fed only TCP (a classic BPF filter), and only its headers (at most `snap` bytes).
class PacketCapture {
 public:
  /// Open, filter, map and bind in `ns`: segments are seen from the moment this returns.
  /// Throws EnvironmentError without CAP_NET_RAW, HarnessError if the kernel refuses.
  static PacketCapture open_in(const NetNamespace& ns, std::uint32_t snap = 128);

  PacketCapture(PacketCapture&& other) noexcept;
  PacketCapture& operator=(PacketCapture&& other) noexcept;
  PacketCapture(const PacketCapture&) = delete;
  PacketCapture& operator=(const PacketCapture&) = delete;
  ~PacketCapture();

  /// The socket, for asio::posix::stream_descriptor::async_wait(wait_read): readable when a
  /// block of the ring is full or its retire timeout passed.
  int fd() const { return socket_.get(); }

  /// Append every frame of every block the kernel has handed over; returns how many.
  std::size_t read(FrameLog& out);
  /// Read until the block the kernel is filling is handed over too (it retires a block a few
  /// ms after its first frame): every frame captured before this call is in `out` afterwards.
  /// Throws HarnessError when the kernel does not hand it over within `timeout`.
  void drain(FrameLog& out, std::chrono::milliseconds timeout = std::chrono::milliseconds(500));
  /// Frames the kernel could not put in the ring (full) since open (PACKET_STATISTICS tp_drops).
  std::uint64_t drops();

  /// The index of interface `name` in `ns` (for telling which veth a frame crossed).
  static int interface_index(const NetNamespace& ns, const std::string& name);

 private:
  PacketCapture(UniqueFd socket, std::uint8_t* ring, std::size_t block_size, std::size_t block_count);
  void unmap();
  std::uint8_t* block(std::size_t i) const { return ring_ + i * block_size_; }

  UniqueFd socket_;
  std::uint8_t* ring_ = nullptr;
  std::size_t block_size_ = 0, block_count_ = 0;
  std::size_t next_block_ = 0;  // the oldest block not read yet
  std::uint64_t drops_ = 0;     // PACKET_STATISTICS resets on read: summed here
};

}  // namespace lastack::sys
