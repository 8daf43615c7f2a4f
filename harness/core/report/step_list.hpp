#pragma once
// The run as steps a class walks through one at a time: each wire segment with the state
// changes it causes on each side, and the changes no segment caused (a timer's) as steps of their
// own. Built from the ladder's state bands, whatever kinds of band state_bands draws, so a new
// kind of band is stepped over like the others.
#include <cstddef>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "harness/core/report/ladder_model.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// One side's change of state, as a step shows it.
struct PlayChange {
  static constexpr std::size_t no_band = std::numeric_limits<std::size_t>::max();
  Side side = Side::client;
  ConnectionIndex connection;
  TcpState from = TcpState::CLOSE, to = TcpState::CLOSE;
  Instant at{};
  std::size_t band = no_band;  // the band it starts (index into the bands given); no_band: the side's socket ended
  std::string_view why;        // step_why(from, to): RFC 9293's words; empty when not one step of its diagram
};

/// One step of the run.
struct PlayStep {
  Instant at{};
  std::optional<std::size_t> segment;  // index into the WireIndex's events; none: a change no segment caused
  std::vector<PlayChange> changes;      // in time order
};

/// The steps of a run, in time order: one per wire segment, each holding the changes it caused,
/// then one step per change left over. A change's segment follows its reason in tcp_state's table:
/// "rcv ..." the segment its side received nearest in time to it, "close(), snd ..." and
/// "connect()" the one it sent nearest to it (either way preferring a segment with the FIN or SYN
/// the reason names); any other change goes with the segment right before it on its connection
/// when its side received that one, or right after it when its side sent that one. A band's
/// `from` is the band before it on its side and connection, else the traced change that started
/// it, else LISTEN for a side that listened, else CLOSED; a band that ends before the trace does,
/// with no band after it, ends in a change to CLOSED.
std::vector<PlayStep> play_steps(const Trace& trace, const std::vector<StateBand>& bands, const WireIndex& wire);

/// `side`'s state on `connection` after step `step` (before the first step: the first change's
/// `from`); nullopt when the steps never name that side there.
std::optional<TcpState> state_after(const std::vector<PlayStep>& steps, std::size_t step, Side side,
                                    ConnectionIndex connection);

/// The states `side` passed through on `connection`, in order: the first change's `from`, then
/// each change's `to` (a repeat of the state before it left out).
std::vector<TcpState> state_path(const std::vector<PlayStep>& steps, Side side, ConnectionIndex connection);

/// The index of the step whose segment is the `nth` (from 1) on the wire carrying `role`.
std::optional<std::size_t> step_with_role(const std::vector<PlayStep>& steps, const WireIndex& wire, Role role,
                                          std::size_t nth);

}  // namespace lastack
