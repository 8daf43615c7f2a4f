#include "harness/engine/wire_capture.hpp"

#include <unistd.h>

#include "lastack/error.hpp"

namespace lastack {

WireCapture::WireCapture(asio::io_context& io, const RunClock& clock, const sys::NetNamespace& wire,
                         sys::PacketCapture capture, bool loopback)
    : clock_(clock),
      capture_(std::move(capture)),
      facing_{loopback ? -1 : sys::PacketCapture::interface_index(wire, "c0"),
              loopback ? -1 : sys::PacketCapture::interface_index(wire, "s0")},
      loopback_(loopback ? sys::PacketCapture::interface_index(wire, "lo") : 0),
      socket_(io, ::dup(capture_.fd())) {}

void WireCapture::start() { wait_readable(); }

void WireCapture::stop() {
  if (stopped_) return;
  stopped_ = true;
  socket_.cancel();
  capture_.drain(frames_);
}

void WireCapture::wait_readable() {
  socket_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted || stopped_) return;
    if (ec) throw HarnessError("packet capture socket: " + ec.message());
    capture_.read(frames_);
    wait_readable();
  });
}

std::vector<CapturedSegment> WireCapture::segments() const {
  std::vector<CapturedSegment> out;
  out.reserve(frames_.size());
  frames_.for_each([&](const sys::CapturedFrame& f) {
    if (loopback_ != 0) {
      // `lastack wrap`: lo is the wire. Its xmit copy is the segment entering it (before INPUT's
      // queue); the receive copy that follows it is the same segment, not another.
      if (f.ifindex != loopback_ || !f.outgoing) return;
      CapturedSegment s;
      s.at = clock_.from_realtime(f.realtime);
      s.bytes.assign(f.bytes.begin(), f.bytes.end());
      s.length = f.length;
      out.push_back(std::move(s));
      return;
    }
    if (f.ifindex != facing_.client && f.ifindex != facing_.server) return;  // lo: not the wire
    CapturedSegment s;
    s.at = clock_.from_realtime(f.realtime);
    s.facing = f.ifindex == facing_.client ? Side::client : Side::server;
    s.egress = f.outgoing;
    s.bytes.assign(f.bytes.begin(), f.bytes.end());
    s.length = f.length;
    out.push_back(std::move(s));
  });
  return out;
}

}  // namespace lastack
