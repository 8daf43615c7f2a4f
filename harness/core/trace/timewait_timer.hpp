#pragma once
// A TIME_WAIT socket's timer as the kernel shows it. sock_diag reports the time left in ms
// (jiffies_to_msecs of expiry - jiffies, read while the dump runs), so each sample bounds the
// absolute expiry to one jiffy plus the dump's own duration; the expiry moving later is a
// restart (inet_twsk_reschedule: a segment reached the socket), and only that.
#include <optional>
#include <string>
#include <vector>

#include "lastack/clock.hpp"
#include "harness/core/trace/state_history.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// Linux's TIME_WAIT length (TCP_TIMEWAIT_LEN, 60 s): what tcp_time_wait and every restart arm.
inline constexpr std::chrono::seconds timewait_length{60};

/// The interval an absolute expiry lies in.
struct ExpiryBounds {
  Instant earliest{}, latest{};
};

/// Where sample `e` puts its timer's expiry: the dump read jiffies at some moment of the sample
/// [start, end], and jiffies trails real time by up to one jiffy.
ExpiryBounds expiry_bounds(const SocketEvent& e, const SocketSample& sample, std::chrono::microseconds jiffy);

/// True when the expiry `after` shows is certainly later than the one `before` showed.
bool expiry_moved_later(const ExpiryBounds& before, const ExpiryBounds& after);

/// True when `after`, a later TIME_WAIT sample of the same socket as `before`, shows an expiry
/// certainly later than `before` did (the bounds of expiry_bounds, with the trace's jiffy).
bool timewait_restarted(const Trace& trace, const SocketEvent& before, const SocketEvent& after);

/// The sample of `side` that began at `at` (the one a SocketEvent was logged from); without
/// recorded samples, the asked-for interval from `at`.
SocketSample sample_at(const Trace& trace, Side side, Instant at);

/// One restart the expiry showed: between two samples, the expiry moved later.
struct TimewaitRestart {
  Instant after{}, by{};          // it happened after the earlier sample began, by the later one's end
  Duration moved{};               // how much later the expiry moved, at least
};

/// One timewait socket's TIME_WAIT timer over the run.
struct TimewaitTimer {
  const StateHistory* socket = nullptr;
  std::vector<const SocketEvent*> samples;    // its samples in TIME_WAIT, in order
  std::optional<Instant> entered;             // the traced hand-over into TIME_WAIT, exact
  std::vector<TimewaitRestart> restarts;      // every restart the kernel's expiry shows
  // How long after entering TIME_WAIT a restart could have come and not shown: entering is
  // known to a jiffy (traced) or to the samples around it, and each sample to a jiffy.
  Duration blind{};
  std::optional<Instant> blind_until;         // the end of that blind stretch
  std::string contradiction;                  // the expiry moved earlier, which no kernel path does
};

/// The TIME_WAIT timer of each history that reached TIME_WAIT with samples of it.
std::vector<TimewaitTimer> timewait_timers(const Trace& trace, const std::vector<StateHistory>& histories);

}  // namespace lastack
