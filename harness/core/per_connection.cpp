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

std::vector<std::optional<std::size_t>> event_connections(const Trace& trace) {
  Trace attributed = trace;
  attribute_connections(attributed);  // the wire's ports place the kernel events
  std::vector<std::optional<std::size_t>> out;
  out.reserve(attributed.events.size());
  for (const TraceEvent& ev : attributed.events)
    out.push_back(std::visit(
        [](const auto& e) -> std::optional<std::size_t> {
          if constexpr (std::is_same_v<std::decay_t<decltype(e)>, WireEvent>)
            return e.info.connection;
          else if constexpr (requires { e.connection, e.local_port; })
            return e.connection;
          else
            return std::nullopt;
        },
        ev));
  return out;
}

bool connection_event(const TraceEvent& ev) {
  return std::holds_alternative<WireEvent>(ev) || std::holds_alternative<SocketEvent>(ev) ||
         std::holds_alternative<StateChange>(ev) || std::holds_alternative<KernelRetransmit>(ev) ||
         std::holds_alternative<KernelReset>(ev);
}

Trace connection_trace(const Trace& trace, std::size_t connection) {
  const auto owners = event_connections(trace);
  Trace out = trace;
  out.events.clear();
  for (std::size_t i = 0; i < trace.events.size(); ++i)
    if (owners[i] ? *owners[i] == connection : !connection_event(trace.events[i]))
      out.events.push_back(trace.events[i]);
  return out;
}

std::optional<std::size_t> named_connection(const Expectation& expect) { return own_connection(expect); }

bool judged_per_connection(const Expectation& expect) {
  // A namespace's counters are one sum over all its connections.
  return !std::holds_alternative<AppExpect>(expect) && !std::holds_alternative<ConnectionsExpect>(expect) &&
         !std::holds_alternative<CounterExpect>(expect);
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
