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
  ConnectionIndex connection;
  std::optional<Side> first_closer;
};

/// Every connection on the wire, in order of first appearance, with its first closer.
std::vector<ConnectionCloser> connection_closers(const Trace& trace);

/// The side every connection on the wire was first closed by; nullopt when there is no wire,
/// a connection had no FIN, or the connections disagree.
std::optional<Side> agreed_first_closer(const Trace& trace);

/// The one side `ref` names on every connection `connection` covers, or on every
/// connection on the wire when unset: `ref` itself when it names a side by who connected; for a
/// closer, nullopt when a covered connection had no FIN or they were first closed by different sides.
std::optional<Side> side_on(const Trace& trace, SideRef ref,
                            std::optional<ConnectionNumber> connection = std::nullopt);

/// "server"; for a closer "first-closer (server)" once side_on resolves it, "first-closer" while
/// it does not.
std::string side_label(const Trace& trace, SideRef ref, std::optional<ConnectionNumber> connection = std::nullopt);

/// True when the expectation names a side by the order of closing.
bool names_close_order(const Expectation& expect);

/// Why the closer `expect` names cannot be known on `trace` (no FIN on a connection the check
/// covers; for a check of one side, connections closed first by different sides): its outcome is
/// then not_checked, this its reason. nullopt when it can be known, or names no closer.
std::optional<std::string> close_order_unknown(const Trace& trace, const Expectation& expect);

/// Set every wire event's info.first_closer from its whole connection, so a selector's closer
/// matches segments sent before the FIN too; true when one changed.
bool fill_first_closers(Trace& trace);

/// `trace` when every wire event's first_closer is already set from its whole connection, else
/// `copy`, made from it and filled.
const Trace& with_first_closers(const Trace& trace, std::optional<Trace>& copy);

}  // namespace lastack
