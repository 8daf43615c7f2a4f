// Per-connection expectations: each connection's own slice of the trace, judged by the usual checks.
#include "harness/core/oracle/per_connection.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <type_traits>
#include <variant>


#include "harness/core/oracle/close_order.hpp"
#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "harness/core/oracle/checks.hpp"
#include "harness/core/oracle/words/finding_words.hpp"

namespace lastack {

namespace {

// The connection field of the kinds that keep it in the expectation itself.
std::optional<ConnectionNumber> own_connection(const Expectation& expect) {
  return std::visit(
      [](const auto& x) -> std::optional<ConnectionNumber> {
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

CheckResult on_connection(CheckResult r, ConnectionIndex connection) {
  r.finding.check.on_connection = number_of(connection);
  render_words(r);
  return r;
}

// A state, reset or timewait check naming its connection: that connection's slice, or a failure
// when the wire never showed it.
CheckResult check_named(const Trace& trace, const std::vector<ConnectionIndex>& on_wire, const Expectation& expect,
                        ConnectionNumber connection) {
  const ConnectionIndex c = index_of(connection);
  if (std::find(on_wire.begin(), on_wire.end(), c) == on_wire.end()) {
    CheckResult r = on_connection(check_expectation(Trace{}, expect), c);
    r.outcome = Outcome::fail;
    r.finding.saw = ConnectionMissing{connection, on_wire.size()};
    r.finding.why_not.reset();
    render_words(r);
    return r;
  }
  // The only connection there is: its sockets are all of the trace's (some the wire may not place).
  if (on_wire.size() == 1) return on_connection(check_expectation(trace, expect), c);
  return on_connection(check_expectation(connection_trace(trace, c), expect), c);
}

// Every field of the trace but its events: the start of each slice.
Trace without_events(const Trace& trace) {
  Trace out = trace;
  out.events.clear();
  return out;
}

// Which events each connection's slice takes, by index in trace order: its own, and the lab's
// notes (which belong to every slice). App steps go to none: the checks judged per connection
// never read them (app is run-wide).
struct SliceIndex {
  std::map<ConnectionIndex, std::vector<std::size_t>> own;  // connection -> its events
  std::vector<std::size_t> shared;                      // events of no connection
};

SliceIndex slice_index(const Trace& trace, const std::vector<std::optional<ConnectionIndex>>& owners) {
  SliceIndex out;
  for (std::size_t i = 0; i < trace.events.size(); ++i) {
    const TraceEvent& ev = trace.events[i];
    if (owners[i])
      out.own[*owners[i]].push_back(i);
    else if (!connection_event(ev) && !std::holds_alternative<AppEvent>(ev))
      out.shared.push_back(i);
  }
  return out;
}

// One connection's slice: `header` (the trace without events) with its events, in trace order.
Trace slice_of(const Trace& header, const Trace& trace, const SliceIndex& index, ConnectionIndex connection) {
  static const std::vector<std::size_t> none;
  const auto it = index.own.find(connection);
  const std::vector<std::size_t>& own = it == index.own.end() ? none : it->second;
  std::vector<std::size_t> picked;
  picked.reserve(own.size() + index.shared.size());
  std::merge(own.begin(), own.end(), index.shared.begin(), index.shared.end(), std::back_inserter(picked));
  Trace out = header;
  out.events.reserve(picked.size());
  for (const std::size_t i : picked) out.events.push_back(trace.events[i]);
  return out;
}

// Many connections' results of one check as one row: the worst outcome, and the connections
// that had it (a failure names the first one's own words).
CheckResult fold(const std::vector<CheckResult>& each, const std::vector<ConnectionIndex>& on_wire) {
  std::map<Outcome, std::vector<std::size_t>> by_outcome;  // outcome -> indexes into each
  for (std::size_t i = 0; i < each.size(); ++i) by_outcome[each[i].outcome].push_back(i);
  const auto count = [&](Outcome o) { return by_outcome.count(o) ? by_outcome[o].size() : 0; };
  const Outcome worst = count(Outcome::fail)          ? Outcome::fail
                        : count(Outcome::not_checked) ? Outcome::not_checked
                        : count(Outcome::pass)        ? Outcome::pass
                                                      : Outcome::not_applicable;
  const std::size_t first = by_outcome[worst].front();
  CheckResult r = each[first];
  Folded folded{each.size(), {}, number_of(on_wire[first])};
  for (const auto& [o, list] : by_outcome) folded.tally.emplace_back(o, list.size());
  r.finding.folded = std::move(folded);
  render_words(r);
  return r;
}

}  // namespace

std::vector<ConnectionIndex> connections_on_wire(const Trace& trace) {
  std::vector<ConnectionIndex> out;
  for (const WireEvent* w : wire_events(trace))
    if (std::find(out.begin(), out.end(), w->info.connection) == out.end()) out.push_back(w->info.connection);
  return out;
}

std::vector<std::optional<ConnectionIndex>> event_connections(const Trace& trace) {
  Trace attributed = trace;
  attribute_connections(attributed);  // the wire's ports place the kernel events
  std::vector<std::optional<ConnectionIndex>> out;
  out.reserve(attributed.events.size());
  for (const TraceEvent& ev : attributed.events)
    out.push_back(std::visit(
        [](const auto& e) -> std::optional<ConnectionIndex> {
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

Trace connection_trace(const Trace& trace, ConnectionIndex connection) {
  return slice_of(without_events(trace), trace, slice_index(trace, event_connections(trace)), connection);
}

std::optional<ConnectionNumber> named_connection(const Expectation& expect) { return own_connection(expect); }

bool judged_per_connection(const Expectation& expect) {
  // A namespace's counters are one sum over all its connections.
  return !std::holds_alternative<AppExpect>(expect) && !std::holds_alternative<ConnectionsExpect>(expect) &&
         !std::holds_alternative<CounterExpect>(expect);
}

std::vector<CheckResult> check_expectations(const Trace& trace, const std::vector<Expectation>& expect) {
  const std::vector<ConnectionIndex> on_wire = connections_on_wire(trace);
  std::vector<std::vector<CheckResult>> results(expect.size());
  std::vector<std::size_t> each;  // expectations judged on each connection
  for (std::size_t i = 0; i < expect.size(); ++i) {
    const Expectation& e = expect[i];
    const auto named = named_connection(e);
    if (!judged_per_connection(e) || (named && !sliced_when_named(e)) || (!named && on_wire.size() <= 1))
      results[i].push_back(check_expectation(trace, e));
    else if (named)
      results[i].push_back(check_named(trace, on_wire, e, *named));
    else
      each.push_back(i);
  }
  if (!each.empty()) {
    // One slice at a time, made from one pass of attribution: many connections stay linear.
    const SliceIndex index = slice_index(trace, event_connections(trace));
    const Trace header = without_events(trace);
    for (const ConnectionIndex c : on_wire) {
      Trace slice = slice_of(header, trace, index, c);
      fill_first_closers(slice);  // once here, not once per check
      for (const std::size_t i : each) results[i].push_back(on_connection(check_expectation(slice, expect[i]), c));
    }
  }
  std::vector<CheckResult> out;
  for (auto& r : results) {
    if (r.size() > fold_above) {
      out.push_back(fold(r, on_wire));
    } else {
      for (auto& one : r) out.push_back(std::move(one));
    }
  }
  return out;
}

}  // namespace lastack
