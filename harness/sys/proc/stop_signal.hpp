#pragma once
// A one-way "stop now" for code on other threads: a flag to read, and an eventfd that turns
// readable at the same moment, for code that waits in poll() beside its own sockets.
#include <atomic>
#include <chrono>

#include "harness/sys/proc/fd.hpp"

namespace lastack::sys {

/// Raised once, never lowered; every call is thread-safe.
class StopSignal {
 public:
  /// Opens the eventfd; throws HarnessError when it cannot.
  StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  /// Raise it: requested() turns true and fd() readable (again calls do nothing more).
  void request();
  /// True once request() was called.
  bool requested() const { return requested_.load(std::memory_order_acquire); }
  /// Readable (POLLIN) from request() on; never read it: it stays readable for every waiter.
  int fd() const { return fd_.get(); }
  /// Block until request() or `timeout`; true when requested.
  bool wait_for(std::chrono::milliseconds timeout) const;

 private:
  UniqueFd fd_;
  std::atomic<bool> requested_{false};
};

}  // namespace lastack::sys
