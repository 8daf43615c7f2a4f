#include "harness/engine/kernel_observer.hpp"

#include <unistd.h>

#include "lastack/error.hpp"

namespace lastack {

KernelObserver::KernelObserver(asio::io_context& io, const RunClock& clock, sys::BpfObserver bpf)
    : clock_(clock), bpf_(std::move(bpf)), ready_(io, ::dup(bpf_.ready_fd())) {}

void KernelObserver::start() {
  drain();
  wait_readable();
}

void KernelObserver::stop() {
  drain();
  stopped_ = true;
  ready_.cancel();
}

void KernelObserver::drain() {
  bpf_.consume([this](const sys::KernelRecord& r) { add(r); });
}

std::uint64_t KernelObserver::skipped() const {
  const sys::ProgramMisses m = bpf_.misses();
  const std::uint64_t unpaired = log_.unpaired();
  // Each skip a twin caught left one unpaired change; the rest were lost by both.
  const std::uint64_t state_skips = m.state + m.state_twin;
  return m.other + (state_skips > unpaired ? state_skips - unpaired : 0);
}

void KernelObserver::add(const sys::KernelRecord& r) {
  ++read_;
  log_.add(r, clock_.from_monotonic(r.monotonic), jiffy());
}

void KernelObserver::wait_readable() {
  ready_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted || stopped_) return;  // normal shutdown
    if (ec) throw HarnessError("BPF ring buffer: " + ec.message());
    drain();
    wait_readable();
  });
}

}  // namespace lastack
