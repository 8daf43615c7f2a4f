#pragma once
// Expectations judged per connection: a run may carry many connections (a user's client under
// `lastack exec`), and an expectation applies to the one it names (`connection = N`) or to each.
#include <cstddef>
#include <optional>
#include <vector>

#include "lastack/oracle.hpp"
#include "lastack/policy.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// The connections that appeared on the wire, in order of first appearance.
std::vector<ConnectionIndex> connections_on_wire(const Trace& trace);

/// Each event's connection, index for index with trace.events: a segment's own; a
/// kernel event's (sample, state change, retransmission, reset) own, else the wire's by its
/// ports; nullopt for app steps and lab notes, which belong to no connection, and for a kernel
/// event the wire cannot place.
std::vector<std::optional<ConnectionIndex>> event_connections(const Trace& trace);

/// True for the kinds of event that belong to a connection (wire and kernel events).
bool connection_event(const TraceEvent& ev);

/// The trace as one connection sees it: its wire segments, the kernel's events
/// (samples, state changes, retransmissions, resets) of its sockets, and the lab's notes. Other
/// connections' events and the app steps (which no per-connection check reads) are left out.
Trace connection_trace(const Trace& trace, ConnectionIndex connection);

/// The connection an expectation names (`connection = N`, in its table or selector).
std::optional<ConnectionNumber> named_connection(const Expectation& expect);

/// False for the run-wide kinds (`connections`, `app`, `counter`), true for the others.
bool judged_per_connection(const Expectation& expect);

/// More connections than this, and an expectation judged on each gives one row for them all.
inline constexpr std::size_t fold_above = 8;

/// Every expectation's verdicts, in order. A run-wide kind, one naming its connection, or any
/// kind in a trace with at most one connection gives one result (as check_expectation does;
/// `connection = N` of a state, reset or timewait check judges connection N's trace alone).
/// Otherwise one result per connection on the wire, in wire order, named "... on connection N";
/// past fold_above connections, one result "... on each of N connections": the worst outcome,
/// how many had each, and the first connection with the worst outcome in its own words.
std::vector<CheckResult> check_expectations(const Trace& trace, const std::vector<Expectation>& expect);

}  // namespace lastack
