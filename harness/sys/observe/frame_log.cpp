#include "harness/sys/observe/frame_log.hpp"

#include <sys/mman.h>

#include <cstring>
#include <utility>

#include "lastack/error.hpp"
#include "harness/sys/proc/fd.hpp"

namespace lastack::sys {

namespace {

// Two huge pages: the kernel aligns an anonymous mapping this large to a huge-page boundary.
constexpr std::size_t kChunkBytes = std::size_t{4} << 20;

}  // namespace

FrameLog::FrameLog(FrameLog&& other) noexcept
    : chunks_(std::move(other.chunks_)), count_(std::exchange(other.count_, 0)) {
  other.chunks_.clear();
}

FrameLog& FrameLog::operator=(FrameLog&& other) noexcept {
  if (this == &other) return *this;
  unmap();
  chunks_ = std::move(other.chunks_);
  other.chunks_.clear();
  count_ = std::exchange(other.count_, 0);
  return *this;
}

FrameLog::~FrameLog() { unmap(); }

void FrameLog::unmap() {
  for (const Chunk& c : chunks_) ::munmap(c.base, kChunkBytes);
  chunks_.clear();
  count_ = 0;
}

void FrameLog::grow() {
  void* p = ::mmap(nullptr, kChunkBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw_errno("mmap(frame log)");
  // Advice only: without huge pages the log works, with 512 page faults per 2 MiB.
  (void)::madvise(p, kChunkBytes, MADV_HUGEPAGE);
  chunks_.push_back({static_cast<std::uint8_t*>(p), 0});
}

void FrameLog::append(const CapturedFrame& frame) {
  if (frame.bytes.size() > max_frame_bytes)
    throw HarnessError("frame log: a captured frame longer than " + std::to_string(max_frame_bytes) + " bytes");
  const std::size_t need = record_size(frame.bytes.size());
  if (chunks_.empty() || chunks_.back().used + need > kChunkBytes) grow();
  Chunk& c = chunks_.back();
  Record r{frame.realtime.count(), frame.ifindex, frame.length, static_cast<std::uint16_t>(frame.bytes.size()),
           static_cast<std::uint8_t>(frame.outgoing ? 1 : 0)};
  std::memcpy(c.base + c.used, &r, sizeof r);
  std::memcpy(c.base + c.used + sizeof r, frame.bytes.data(), frame.bytes.size());
  c.used += need;
  ++count_;
}

}  // namespace lastack::sys
