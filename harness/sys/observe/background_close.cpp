#include "harness/sys/observe/background_close.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <system_error>
#include <thread>

namespace lastack::sys {

namespace {

constexpr int kMaxInFlight = 4;

// The closes in flight, counted without a mutex: a fork can then never copy a held lock. Never
// destroyed: a helper thread may touch it after the last wait for it returned.
struct Closes {
  const pid_t owner = ::getpid();
  std::atomic<int> in_flight{0};
};

Closes& closes();

// At normal exit: wait for the closes still running (they each take tens of milliseconds).
void wait_for_closes() {
  Closes& c = closes();
  if (::getpid() != c.owner) return;
  while (c.in_flight.load() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

Closes& closes() {
  static Closes* const c = [] {
    auto* made = new Closes;
    std::atexit(wait_for_closes);
    return made;
  }();
  return *c;
}

}  // namespace

void close_in_background(UniqueFd fd) {
  if (!fd.valid()) return;
  Closes& c = closes();
  if (::getpid() != c.owner) return;  // a forked child: `fd` closes here, on return
  // Take a slot: wait while all are taken.
  for (int n = c.in_flight.load();;) {
    if (n >= kMaxInFlight) {
      c.in_flight.wait(n);
      n = c.in_flight.load();
    } else if (c.in_flight.compare_exchange_weak(n, n + 1)) {
      break;
    }
  }
  const auto done = [&c] {
    c.in_flight.fetch_sub(1);
    c.in_flight.notify_all();
  };
  const int raw = fd.release();
  try {
    std::thread([raw, done] {
      ::close(raw);
      done();
    }).detach();
  } catch (const std::system_error&) {  // no thread to be had: close in place
    ::close(raw);
    done();
  }
}

}  // namespace lastack::sys
