#pragma once
// The frames the packet capture copied out of its ring, kept for the whole run: one append-only
// log in 4 MiB huge-page chunks. The capture appends on the wire's own path (the reader shares
// the agents' thread), so an append allocates nothing and faults a page in once per 2 MiB.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace lastack::sys {

/// One TCP segment as the capture saw it cross an interface: a view into a FrameLog.
struct CapturedFrame {
  std::chrono::nanoseconds realtime{0};  // the kernel's timestamp: CLOCK_REALTIME since the epoch
  int ifindex = 0;                       // the interface it crossed
  bool outgoing = false;                 // leaving the namespace through `ifindex` (else entering)
  std::span<const std::uint8_t> bytes;   // the IP and TCP headers (at most the snap length)
  std::uint32_t length = 0;              // the IP packet's real length
};

/// Append-only storage of frames; move-only, its chunks unmapped on destruction.
class FrameLog {
 public:
  /// The longest `bytes` append() takes (the capture's snap length is at most this).
  static constexpr std::size_t max_frame_bytes = 256;

  FrameLog() = default;
  FrameLog(FrameLog&& other) noexcept;
  FrameLog& operator=(FrameLog&& other) noexcept;
  FrameLog(const FrameLog&) = delete;
  FrameLog& operator=(const FrameLog&) = delete;
  ~FrameLog();

  /// Store a copy of `frame` (its bytes included) after every frame appended before.
  /// Throws HarnessError for bytes longer than max_frame_bytes or when memory runs out.
  void append(const CapturedFrame& frame);
  /// Frames appended so far.
  std::size_t size() const { return count_; }

  /// Call `f(const CapturedFrame&)` for every frame, in append order; the views live as long
  /// as the log.
  template <class F>
  void for_each(F&& f) const {
    for (const Chunk& c : chunks_)
      for (std::size_t at = 0; at < c.used;) at += visit(c.base + at, f);
  }

 private:
  struct Chunk {
    std::uint8_t* base = nullptr;
    std::size_t used = 0;
  };
  /// The stored layout of one frame: this header, then its bytes, padded to 8.
  struct Record {
    std::int64_t realtime_ns;
    std::int32_t ifindex;
    std::uint32_t length;
    std::uint16_t size;
    std::uint8_t outgoing;
  };

  /// Hand `f` the frame stored at `at`; returns the record's size.
  template <class F>
  static std::size_t visit(const std::uint8_t* at, F& f) {
    const auto* r = reinterpret_cast<const Record*>(at);
    f(CapturedFrame{std::chrono::nanoseconds(r->realtime_ns), r->ifindex, r->outgoing != 0,
                    std::span<const std::uint8_t>(at + sizeof(Record), r->size), r->length});
    return record_size(r->size);
  }
  static constexpr std::size_t record_size(std::size_t bytes) { return (sizeof(Record) + bytes + 7) & ~std::size_t{7}; }
  /// Map one more chunk.
  void grow();
  void unmap();

  std::vector<Chunk> chunks_;
  std::size_t count_ = 0;
};

}  // namespace lastack::sys
