// Per-connection expectations: each connection's own slice of the trace, judged by the usual checks.
#include "harness/core/per_connection.hpp"

#include <algorithm>
#include <map>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

#include "harness/core/trace_query.hpp"

namespace lastack {

namespace {

// The connection an event belongs to: nullopt for the kinds no connection owns (app, lab);
// for a kernel event, its own field, else the wire's by its ports; `unplaced` when neither says.
constexpr std::size_t unplaced = static_cast<std::size_t>(-1);

std::optional<std::size_t> owner_of(const Trace& trace, const TraceEvent& ev) {
  return std::visit(
      [&trace](const auto& e) -> std::optional<std::size_t> {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, WireEvent>) {
          return e.info.connection;
        } else if constexpr (requires { e.local_port, e.remote_port, e.connection, e.side; }) {
          if (e.connection) return *e.connection;
          return connection_of_ports(trace, e.side, e.local_port, e.remote_port).value_or(unplaced);
        } else {
          return std::nullopt;
        }
      },
      ev);
}

// The connection field of the kinds that keep it in the expectation itself.
std::optional<std::size_t> own_connection(const Expectation& expect) {
  return std::visit(
      [](const auto& x) -> std::optional<std::size_t> {
        if constexpr (requires { x.connection; })
          return x.connection;
        else if constexpr (requires { x.segment.connection; })
          return x.segment.connection;
        else
          return std::nullopt;
      },
      expect);
}

// state, reset and timewait judge the whole trace: a connection they name is applied by slicing.
bool sliced_when_named(const Expectation& expect) {
  return std::holds_alternative<StateExpect>(expect) || std::holds_alternative<ResetExpect>(expect) ||
         std::holds_alternative<TimeWaitExpect>(expect);
}

CheckResult on_connection(CheckResult r, std::size_t connection) {
  r.name += fmt::format(" on connection {}", connection + 1);
  return r;
}

// A state, reset or timewait check naming its connection: that connection's slice, or a failure
// when the wire never showed it.
CheckResult check_named(const Trace& trace, const std::vector<std::size_t>& on_wire, const Expectation& expect,
                        std::size_t connection) {
  const std::size_t c = connection - 1;
  if (std::find(on_wire.begin(), on_wire.end(), c) == on_wire.end()) {
    CheckResult r = on_connection(check_expectation(Trace{}, expect), c);
    r.outcome = Outcome::fail;
    r.saw = fmt::format("no connection {} on the wire ({} seen)", connection, on_wire.size());
    return r;
  }
  // The only connection there is: its sockets are all of the trace's (some the wire may not place).
  if (on_wire.size() == 1) return on_connection(check_expectation(trace, expect), c);
  return on_connection(check_expectation(connection_trace(trace, c), expect), c);
}

}  // namespace

std::vector<std::size_t> wire_connection_numbers(const Trace& trace) {
  std::vector<std::size_t> out;
  for (const WireEvent* w : wire_events(trace))
    if (std::find(out.begin(), out.end(), w->info.connection) == out.end()) out.push_back(w->info.connection);
  return out;
}

Trace connection_trace(const Trace& trace, std::size_t connection) {
  Trace out = trace;
  out.events.clear();
  for (const TraceEvent& ev : trace.events) {
    const auto owner = owner_of(trace, ev);
    if (!owner || *owner == connection) out.events.push_back(ev);
  }
  return out;
}

std::optional<std::size_t> named_connection(const Expectation& expect) { return own_connection(expect); }

bool judged_per_connection(const Expectation& expect) {
  return !std::holds_alternative<AppExpect>(expect) && !std::holds_alternative<ConnectionsExpect>(expect);
}

std::vector<CheckResult> check_expectations(const Trace& trace, const std::vector<Expectation>& expect) {
  const std::vector<std::size_t> on_wire = wire_connection_numbers(trace);
  std::map<std::size_t, Trace> slices;  // made once, on first use
  const auto slice = [&](std::size_t c) -> const Trace& {
    auto it = slices.find(c);
    if (it == slices.end()) it = slices.emplace(c, connection_trace(trace, c)).first;
    return it->second;
  };
  std::vector<CheckResult> out;
  for (const Expectation& e : expect) {
    const auto named = named_connection(e);
    if (!judged_per_connection(e) || (named && !sliced_when_named(e)) || (!named && on_wire.size() <= 1)) {
      out.push_back(check_expectation(trace, e));
    } else if (named) {
      out.push_back(check_named(trace, on_wire, e, *named));
    } else {
      for (const std::size_t c : on_wire) out.push_back(on_connection(check_expectation(slice(c), e), c));
    }
  }
  return out;
}

}  // namespace lastack
