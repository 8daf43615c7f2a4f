#pragma once
// The wire as the kernel saw it: the packet capture in `wire`, read by Asio during the run,
// its frames turned into CapturedSegments on the run's clock.
#include <cstdint>
#include <vector>

#include "lastack/per_side.hpp"
#include "harness/core/trace/wire_merge.hpp"
#include "harness/engine/run_clock.hpp"
#include "lastack/asio.hpp"
#include "harness/sys/net/netns.hpp"
#include "harness/sys/observe/packet_capture.hpp"

namespace lastack {

class WireCapture {
 public:
  /// Read `capture`, bound in `wire` (the veths c0, facing the client, and s0, facing the
  /// server, must exist): every TCP segment it took is seen. Bind it before any queue rule.
  /// `loopback` (`lastack wrap`): the wire is lo; each segment crosses it twice (its xmit, then
  /// its receive, both before INPUT's queue), and only the xmit copy is kept, as entering.
  WireCapture(asio::io_context& io, const RunClock& clock, const sys::NetNamespace& wire,
              sys::PacketCapture capture, bool loopback = false);

  /// Start emptying the ring as the kernel hands blocks over.
  void start();
  /// Stop reading, and take what the kernel still holds (call after the interceptor stopped).
  void stop();

  /// Every segment seen on c0 or s0, in capture order, stamped on the run's clock.
  std::vector<CapturedSegment> segments() const;
  /// Frames read from the ring so far (grows only when the kernel hands a block over).
  std::size_t frames_read() const { return frames_.size(); }
  /// The kernel's count of frames it could not put in the ring, as of now.
  std::uint64_t drops() { return capture_.drops(); }

 private:
  void wait_readable();

  const RunClock& clock_;
  sys::PacketCapture capture_;
  PerSide<int> facing_;                        // interface indexes of c0 and s0
  int loopback_ = 0;                           // lo's index under `lastack wrap`, else 0
  asio::posix::stream_descriptor socket_;
  sys::FrameLog frames_;
  bool stopped_ = false;
};

}  // namespace lastack
