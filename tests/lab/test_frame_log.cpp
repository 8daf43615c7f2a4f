// The packet capture's frame log (sys/frame_log.hpp): frames come back in append order with
// their bytes, across chunks, and one longer than the log takes is refused, not cut.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <vector>

#include "lastack/error.hpp"
#include "harness/sys/observe/frame_log.hpp"

using namespace lastack;
using sys::CapturedFrame;
using sys::FrameLog;

TEST_CASE("the frame log gives back every frame in order, bytes and fields intact, across its chunks") {
  FrameLog log;
  // 120,000 frames of 52 to 111 bytes: about 10 MB, so three 4 MiB chunks.
  constexpr std::uint32_t frames = 120'000;
  std::array<std::uint8_t, 128> bytes{};
  for (std::uint32_t i = 0; i < frames; ++i) {
    const std::size_t n = 52 + i % 60;
    for (std::size_t k = 0; k < n; ++k) bytes[k] = static_cast<std::uint8_t>(i + k);
    log.append({std::chrono::nanoseconds(1'000 * i), static_cast<int>(i % 3), i % 2 == 1,
                std::span<const std::uint8_t>(bytes.data(), n), 1500 + i});
  }
  CHECK(log.size() == frames);
  std::uint32_t seen = 0, wrong = 0;
  log.for_each([&](const CapturedFrame& f) {
    const std::uint32_t i = seen++;
    bool ok = f.realtime == std::chrono::nanoseconds(1'000 * i) && f.ifindex == static_cast<int>(i % 3) &&
              f.outgoing == (i % 2 == 1) && f.length == 1500 + i && f.bytes.size() == 52 + i % 60;
    for (std::size_t k = 0; ok && k < f.bytes.size(); ++k) ok = f.bytes[k] == static_cast<std::uint8_t>(i + k);
    if (!ok) ++wrong;
  });
  CHECK(seen == frames);
  CHECK(wrong == 0);

  FrameLog moved = std::move(log);
  CHECK(moved.size() == frames);
  CHECK(log.size() == 0);  // NOLINT(bugprone-use-after-move): a moved-from log is empty
}

TEST_CASE("the frame log refuses a frame longer than it takes") {
  FrameLog log;
  std::vector<std::uint8_t> big(FrameLog::max_frame_bytes + 1, 0);
  CHECK_THROWS_AS(log.append({std::chrono::nanoseconds(0), 1, false, big, 2000}), HarnessError);
  CHECK(log.size() == 0);
}
