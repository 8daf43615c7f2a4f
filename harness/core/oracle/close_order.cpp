// first-closer / second-closer in expectations: which side each connection's first FIN came
// from, read from the whole trace, and the side a reference names there.
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
std::optional<std::string> why_unknown(const std::vector<ConnectionCloser>& connections, SideRef ref,
                                       bool several_on_wire, bool need_one_side) {
  const std::string_view name = side_ref_name(ref);
  if (connections.empty()) return fmt::format("nothing on the wire, so no side is the {}", name);
  for (const ConnectionCloser& c : connections)
    if (!c.first_closer)
      return several_on_wire ? fmt::format("no FIN on connection {}, so it has no {}", number_of(c.connection).value, name)
                             : fmt::format("no FIN on the wire, so no side is the {}", name);
  if (!need_one_side || agreed(connections)) return std::nullopt;
  std::vector<std::string> each;
  for (const ConnectionCloser& c : connections)
    each.push_back(fmt::format("connection {}: {}", number_of(c.connection).value, side_name(*c.first_closer)));
  std::string list;
  for (const auto& e : each) list += (list.empty() ? "" : ", ") + e;
  return fmt::format("the connections were closed first by different sides ({}), so no one side is the {}",
                     list, name);
}

// The connections `connection` covers: the one it names, or all.
std::vector<ConnectionCloser> covered(std::vector<ConnectionCloser> all, std::optional<ConnectionNumber> connection) {
  if (connection) std::erase_if(all, [&](const ConnectionCloser& c) { return number_of(c.connection) != *connection; });
  return all;
}

// A closer matched segment by segment (a selector, reset's from): known when every covered
// connection had a FIN.
std::optional<std::string> per_segment_unknown(const std::vector<ConnectionCloser>& all, std::optional<SideRef> ref,
                                               std::optional<ConnectionNumber> connection) {
  if (!ref || !ref->by_close_order()) return std::nullopt;
  const auto mine = covered(all, connection);
  if (connection && mine.empty())
    return fmt::format("no connection {} on the wire, so no side is its {}", connection->value, side_ref_name(*ref));
  return why_unknown(mine, *ref, all.size() > 1, false);
}

// A closer a check judges as one side for the whole trace: known when every connection agrees.
std::optional<std::string> one_side_unknown(const std::vector<ConnectionCloser>& all, std::optional<SideRef> ref) {
  if (!ref || !ref->by_close_order()) return std::nullopt;
  return why_unknown(all, *ref, all.size() > 1, true);
}

std::optional<std::string> unknown_in(const std::vector<ConnectionCloser>& all, const Expectation& expect) {
  return std::visit(
      [&all](const auto& x) -> std::optional<std::string> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, RetransmittedExpect> || std::is_same_v<T, SegmentsExpect>) {
          return per_segment_unknown(all, x.segment.from, x.segment.connection);
        } else if constexpr (std::is_same_v<T, ResetExpect>) {
          return per_segment_unknown(all, x.from, std::nullopt);
        } else if constexpr (std::is_same_v<T, StateExpect> || std::is_same_v<T, AppExpect> ||
                             std::is_same_v<T, SocketHeldExpect>) {
          return one_side_unknown(all, x.side);
        } else if constexpr (std::is_same_v<T, TimeWaitExpect>) {
          for (const SideRef ref : x.entered_by.value_or(std::vector<SideRef>{}))
            if (auto why = one_side_unknown(all, ref)) return why;
          return std::nullopt;
        } else {
          return std::nullopt;
        }
      },
      expect);
}

// The side references an expectation makes.
std::vector<SideRef> side_refs(const Expectation& expect) {
  return std::visit(
      [](const auto& x) -> std::vector<SideRef> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, RetransmittedExpect> || std::is_same_v<T, SegmentsExpect>)
          return x.segment.from ? std::vector<SideRef>{*x.segment.from} : std::vector<SideRef>{};
        else if constexpr (std::is_same_v<T, ResetExpect>)
          return x.from ? std::vector<SideRef>{*x.from} : std::vector<SideRef>{};
        else if constexpr (std::is_same_v<T, StateExpect> || std::is_same_v<T, AppExpect>)
          return {x.side};
        else if constexpr (std::is_same_v<T, SocketHeldExpect>)
          return x.side ? std::vector<SideRef>{*x.side} : std::vector<SideRef>{};
        else if constexpr (std::is_same_v<T, TimeWaitExpect>)
          return x.entered_by.value_or(std::vector<SideRef>{});
        else
          return {};
      },
      expect);
}

}  // namespace

std::optional<Side> agreed_first_closer(const Trace& trace) { return agreed(connection_closers(trace)); }

std::optional<Side> side_on(const Trace& trace, SideRef ref, std::optional<ConnectionNumber> connection) {
  if (auto side = ref.fixed()) return side;
  return resolve_side(ref, agreed(covered(connection_closers(trace), connection)));
}

std::string side_label(const Trace& trace, SideRef ref, std::optional<ConnectionNumber> connection) {
  if (!ref.by_close_order()) return std::string(side_ref_name(ref));
  const auto side = side_on(trace, ref, connection);
  if (!side) return std::string(side_ref_name(ref));
  return fmt::format("{} ({})", side_ref_name(ref), side_name(*side));
}

bool names_close_order(const Expectation& expect) {
  const auto refs = side_refs(expect);
  return std::any_of(refs.begin(), refs.end(), [](SideRef ref) { return ref.by_close_order(); });
}

std::optional<std::string> close_order_unknown(const Trace& trace, const Expectation& expect) {
  if (!names_close_order(expect)) return std::nullopt;
  return unknown_in(connection_closers(trace), expect);
}

namespace {

// Each connection's first closer, looked up per segment rather than walked.
std::map<ConnectionIndex, std::optional<Side>> closers_by_connection(const std::vector<ConnectionCloser>& all) {
  std::map<ConnectionIndex, std::optional<Side>> out;
  for (const ConnectionCloser& c : all) out.emplace(c.connection, c.first_closer);
  return out;
}

std::optional<Side> closer_in(const std::map<ConnectionIndex, std::optional<Side>>& by, const WireEvent& w) {
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

const Trace& with_first_closers(const Trace& trace, std::optional<Trace>& copy) {
  const auto by = closers_by_connection(connection_closers(trace));
  const bool filled = std::all_of(trace.events.begin(), trace.events.end(), [&](const TraceEvent& ev) {
    const auto* w = std::get_if<WireEvent>(&ev);
    return !w || w->info.first_closer == closer_in(by, *w);
  });
  if (filled) return trace;
  copy = trace;
  fill_first_closers(*copy);
  return *copy;
}

}  // namespace lastack
