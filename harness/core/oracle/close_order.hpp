#pragma once
// Expectations that name a side by the order of closing ("first-closer", "second-closer"),
// resolved per connection from the whole trace: the first closer is the sender of the
// connection's first FIN (the flow tracker's first-fin tag, in wire order).
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "lastack/policy.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// One connection on the wire and the sender of its first FIN (nullopt: no FIN on it).
struct ConnectionCloser {
  std::size_t connection = 0;  // 0-based
  std::optional<Side> first_closer;
};

/// Every connection on the wire, in order of first appearance, with its first closer.
std::vector<ConnectionCloser> connection_closers(const Trace& trace);

/// The side every connection on the wire was first closed by; nullopt when there is no wire,
/// a connection had no FIN, or the connections disagree.
std::optional<Side> agreed_first_closer(const Trace& trace);

/// "server", or, when `closer` names the side, "first-closer (server)" once the trace resolves
/// it (agreed_first_closer) and "first-closer" while it does not.
std::string closer_label(const Trace& trace, Side side, std::optional<CloseOrder> closer);

/// True when the expectation names a side by the order of closing.
bool names_close_order(const Expectation& expect);

/// An expectation resolved against a whole trace.
struct CloseOrderResolution {
  // Set when the closer cannot be known (no FIN on a connection the check covers, connections
  // closed first by different sides): the check's outcome is not_checked, this its reason.
  std::optional<std::string> unknown;
  // The trace with every wire event's info.first_closer set from its whole connection, so a
  // selector's closer matches segments sent before the FIN too: the one given when it had them
  // all set already (no copy), else a copy.
  const Trace* given = nullptr;
  std::optional<Trace> filled;
  const Trace& trace() const { return filled ? *filled : *given; }
  // side / from / entered_by filled with the resolved side where the trace agrees on it; the
  // closer fields are kept, for the words.
  Expectation expect;
};

/// Set every wire event's info.first_closer from its whole connection (what resolve_close_order
/// does to its copy); true when one changed.
bool fill_first_closers(Trace& trace);

/// Resolve `expect`'s closer fields against `trace`, which must outlive the result.
CloseOrderResolution resolve_close_order(const Trace& trace, const Expectation& expect);

}  // namespace lastack
