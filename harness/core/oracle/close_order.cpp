// first-closer / second-closer in expectations: which side each connection's first FIN came
// from, read from the whole trace, and the expectation rewritten with that side.
#include "harness/core/oracle/close_order.hpp"

#include <algorithm>
#include <map>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

#include "harness/core/trace/trace_query.hpp"

namespace lastack {

std::vector<ConnectionCloser> connection_closers(const Trace& trace) {
  std::vector<ConnectionCloser> out;
  for (const WireEvent* w : wire_events(trace)) {
    auto it = std::find_if(out.begin(), out.end(),
                           [w](const ConnectionCloser& c) { return c.connection == w->info.connection; });
    if (it == out.end()) it = out.insert(out.end(), {w->info.connection, std::nullopt});
    // The tracker tags the FIN that was on the wire first; its copies keep the tag and the sender.
    if (!it->first_closer && w->info.roles.has(Role::first_fin)) it->first_closer = w->info.from;
  }
  return out;
}

namespace {

// The one side the connections were first closed by; nullopt when some has none or they differ.
std::optional<Side> agreed(const std::vector<ConnectionCloser>& connections) {
  std::optional<Side> side;
  for (const ConnectionCloser& c : connections) {
    if (!c.first_closer || (side && *side != *c.first_closer)) return std::nullopt;
    side = c.first_closer;
  }
  return side;
}

// Why the closer of `connections` (those a check covers) cannot be known; nullopt when it can.
// `need_one_side`: the check names one side for every connection (state, app, timewait).
std::optional<std::string> why_unknown(const std::vector<ConnectionCloser>& connections, CloseOrder order,
                                       bool several_on_wire, bool need_one_side) {
  const std::string_view name = close_order_name(order);
  if (connections.empty()) return fmt::format("nothing on the wire, so no side is the {}", name);
  for (const ConnectionCloser& c : connections)
    if (!c.first_closer)
      return several_on_wire ? fmt::format("no FIN on connection {}, so it has no {}", c.connection + 1, name)
                             : fmt::format("no FIN on the wire, so no side is the {}", name);
  if (!need_one_side || agreed(connections)) return std::nullopt;
  std::vector<std::string> each;
  for (const ConnectionCloser& c : connections)
    each.push_back(fmt::format("connection {}: {}", c.connection + 1, side_name(*c.first_closer)));
  std::string list;
  for (const auto& e : each) list += (list.empty() ? "" : ", ") + e;
  return fmt::format("the connections were closed first by different sides ({}), so no one side is the {}",
                     list, name);
}

// The connections a selector covers: the one it names, or all.
std::vector<ConnectionCloser> covered(std::vector<ConnectionCloser> all, const Selector& sel) {
  if (sel.connection) std::erase_if(all, [&](const ConnectionCloser& c) { return c.connection + 1 != *sel.connection; });
  return all;
}

// A selector's closer resolved: `from` set when every covered connection agrees (for the words;
// matching goes by each segment's own connection). Returns why not, when it cannot be known.
std::optional<std::string> resolve_selector(const std::vector<ConnectionCloser>& all, Selector& sel) {
  if (!sel.closer) return std::nullopt;
  const auto mine = covered(all, sel);
  if (sel.connection && mine.empty())
    return fmt::format("no connection {} on the wire, so no side is its {}", *sel.connection,
                       close_order_name(*sel.closer));
  if (auto why = why_unknown(mine, *sel.closer, all.size() > 1, false)) return why;
  if (const auto side = agreed(mine)) sel.from = closer_side(*sel.closer, *side);
  return std::nullopt;
}

// A side named by close order, for a check that judges one side for the whole trace.
std::optional<std::string> resolve_side(const std::vector<ConnectionCloser>& all, CloseOrder order, Side& side) {
  if (auto why = why_unknown(all, order, all.size() > 1, true)) return why;
  side = closer_side(order, *agreed(all));
  return std::nullopt;
}

std::optional<std::string> resolve(const std::vector<ConnectionCloser>& all, Expectation& expect) {
  return std::visit(
      [&all](auto& x) -> std::optional<std::string> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, RetransmittedExpect> || std::is_same_v<T, SegmentsExpect>) {
          return resolve_selector(all, x.segment);
        } else if constexpr (std::is_same_v<T, ResetExpect>) {
          Selector sel;
          sel.closer = x.closer;
          auto why = resolve_selector(all, sel);
          x.from = sel.from;
          return why;
        } else if constexpr (std::is_same_v<T, StateExpect> || std::is_same_v<T, AppExpect>) {
          return x.closer ? resolve_side(all, *x.closer, x.side) : std::nullopt;
        } else if constexpr (std::is_same_v<T, SocketHeldExpect>) {
          if (!x.closer) return std::nullopt;
          Side side = Side::client;
          auto why = resolve_side(all, *x.closer, side);
          if (!why) x.side = side;
          return why;
        } else if constexpr (std::is_same_v<T, TimeWaitExpect>) {
          for (CloseOrder order : x.entered_by_closers) {
            Side side = Side::client;
            if (auto why = resolve_side(all, order, side)) return why;
            if (std::find(x.entered_by->begin(), x.entered_by->end(), side) == x.entered_by->end())
              x.entered_by->push_back(side);
          }
          return std::nullopt;
        } else {
          return std::nullopt;
        }
      },
      expect);
}

}  // namespace

std::optional<Side> agreed_first_closer(const Trace& trace) { return agreed(connection_closers(trace)); }

std::string closer_label(const Trace& trace, Side side, std::optional<CloseOrder> closer) {
  if (!closer) return std::string(side_name(side));
  const auto first = agreed_first_closer(trace);
  if (!first) return std::string(close_order_name(*closer));
  return fmt::format("{} ({})", close_order_name(*closer), side_name(closer_side(*closer, *first)));
}

bool names_close_order(const Expectation& expect) {
  return std::visit(
      [](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, RetransmittedExpect> || std::is_same_v<T, SegmentsExpect>)
          return x.segment.closer.has_value();
        else if constexpr (std::is_same_v<T, ResetExpect> || std::is_same_v<T, StateExpect> ||
                           std::is_same_v<T, AppExpect> || std::is_same_v<T, SocketHeldExpect>)
          return x.closer.has_value();
        else if constexpr (std::is_same_v<T, TimeWaitExpect>)
          return !x.entered_by_closers.empty();
        else
          return false;
      },
      expect);
}

namespace {

// Each connection's first closer, looked up per segment rather than walked.
std::map<std::size_t, std::optional<Side>> closers_by_connection(const std::vector<ConnectionCloser>& all) {
  std::map<std::size_t, std::optional<Side>> out;
  for (const ConnectionCloser& c : all) out.emplace(c.connection, c.first_closer);
  return out;
}

std::optional<Side> closer_in(const std::map<std::size_t, std::optional<Side>>& by, const WireEvent& w) {
  const auto it = by.find(w.info.connection);
  return it != by.end() ? it->second : std::nullopt;
}

}  // namespace

bool fill_first_closers(Trace& trace) {
  const auto by = closers_by_connection(connection_closers(trace));
  bool changed = false;
  for (TraceEvent& ev : trace.events) {
    auto* w = std::get_if<WireEvent>(&ev);
    if (!w) continue;
    const auto closer = closer_in(by, *w);
    changed = changed || w->info.first_closer != closer;
    w->info.first_closer = closer;
  }
  return changed;
}

CloseOrderResolution resolve_close_order(const Trace& trace, const Expectation& expect) {
  CloseOrderResolution out{std::nullopt, &trace, std::nullopt, expect};
  const std::vector<ConnectionCloser> all = connection_closers(trace);
  const auto by = closers_by_connection(all);
  const bool filled = std::all_of(trace.events.begin(), trace.events.end(), [&](const TraceEvent& ev) {
    const auto* w = std::get_if<WireEvent>(&ev);
    return !w || w->info.first_closer == closer_in(by, *w);
  });
  if (!filled) {
    out.filled = trace;
    fill_first_closers(*out.filled);
  }
  out.unknown = resolve(all, out.expect);
  if (out.unknown) out.expect = expect;  // the words say "first-closer", unresolved
  return out;
}

}  // namespace lastack
