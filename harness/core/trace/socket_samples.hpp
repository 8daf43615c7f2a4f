#pragma once
// What the sock_diag samples of a trace can tell about a sampled state: when it may have begun
// or ended, whether the last one seen is still current, and how long a state could have lasted
// between two samples and never been seen. Judged from the samples the run actually took
// (Trace::samples); a trace without them gets the asked-for pace.
#include <optional>

#include "lastack/clock.hpp"
#include "harness/core/trace/state_history.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// An interval some moment lies in: after `earliest`, by `latest`.
struct InstantBounds {
  Instant earliest{}, latest{};
};

/// The samples of `side`'s sockets the trace recorded, in time order (empty: not recorded).
const std::vector<SocketSample>& samples_of(const Trace& trace, Side side);

/// How long a state can last between two samples and never be seen when the samples were not
/// recorded: two sample intervals (a sample late by one) and a loaded host's scheduling latency.
Duration nominal_blind_spot(const Trace& trace);

/// When a change first shown by the sample of `side` that began at `seen` happened: after the
/// start of that side's previous sample (which did not show it) and by the end of this one.
/// Without a previous sample (or recorded samples): up to nominal_blind_spot() before `seen`.
InstantBounds sampled_change(const Trace& trace, Side side, Instant seen);

/// The longest a state of a socket on `side` (either side when nullopt) could have lasted up to
/// `until` without any sample showing it: the widest span from one sample's start to the next
/// one's end (or to `until` after the last). nominal_blind_spot() without recorded samples.
Duration longest_unseen(const Trace& trace, std::optional<Side> side, Instant until);

/// Whether the last step of `h` is still its socket's state at `end`: traced, inferred or gone;
/// sampled, when a sample of its side began at least a sample interval after the last segment
/// of its connection that reached the wire by `end` (a state changes with a segment, and the
/// socket has had time to take it in) and was read by `end`. Without recorded samples: no
/// segment of its connection in the last two sample intervals before `end`.
bool last_state_known(const Trace& trace, const StateHistory& h, Instant end);

}  // namespace lastack
