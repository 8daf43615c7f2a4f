#include "harness/core/report/step_list.hpp"

#include <algorithm>
#include <map>
#include <string_view>

#include <fmt/format.h>

#include "harness/core/trace/trace_query.hpp"
#include "lastack/tcp_state.hpp"

namespace lastack {

namespace {

// When a segment reached its receiver; none when it never did.
std::optional<Instant> arrival(const WireEvent& w) {
  return delivered(w) ? std::optional<Instant>(arrival_time(w)) : std::nullopt;
}

// A side that had a listener: its first socket's `from` is LISTEN, not CLOSED.
bool listened(const Trace& trace, Side side) {
  for (const TraceEvent& ev : trace.events) {
    if (const auto* c = std::get_if<StateChange>(&ev); c && c->side == side && c->to == TcpState::LISTEN) return true;
    if (const auto* s = std::get_if<SocketEvent>(&ev); s && s->side == side && s->state == TcpState::LISTEN) return true;
  }
  return false;
}

// The `from` of a side's first band: the traced change that started it, else where a socket starts.
TcpState first_from(const Trace& trace, const StateBand& band) {
  for (const TraceEvent& ev : trace.events)
    if (const auto* c = std::get_if<StateChange>(&ev);
        c && c->side == band.side && c->at == band.start && c->to == band.state &&
        c->connection.value_or(ConnectionIndex{}) == band.connection)
      return c->from;
  return listened(trace, band.side) ? TcpState::LISTEN : TcpState::CLOSE;
}

// Every change the bands show, in band order.
std::vector<PlayChange> changes_of(const Trace& trace, const std::vector<StateBand>& bands) {
  const Instant end = trace_span(trace).second;
  std::vector<PlayChange> out;
  for (std::size_t i = 0; i < bands.size(); ++i) {
    const StateBand& b = bands[i];
    const StateBand* before = nullptr;
    for (std::size_t j = i; j-- > 0;)
      if (bands[j].side == b.side && bands[j].connection == b.connection) {
        before = &bands[j];
        break;
      }
    TcpState from = before ? (before->end >= b.start ? before->state : TcpState::CLOSE) : first_from(trace, b);
    out.push_back({b.side, b.connection, from, b.state, b.start, i, step_why(from, b.state)});
    const StateBand* after = nullptr;
    for (std::size_t j = i + 1; j < bands.size() && !after; ++j)
      if (bands[j].side == b.side && bands[j].connection == b.connection) after = &bands[j];
    if ((!after || after->start > b.end) && b.end < end)
      out.push_back({b.side, b.connection, b.state, TcpState::CLOSE, b.end, PlayChange::no_band,
                     step_why(b.state, TcpState::CLOSE)});
  }
  return out;
}

enum class Cause { received, sent, either };

// What RFC 9293 says moves a socket along this change: a segment it received, one it sends, or
// something else (a timer, an abort) that may still sit next to a segment.
Cause cause_of(const PlayChange& c) {
  if (c.why.starts_with("rcv") || c.why.starts_with("simultaneous")) return Cause::received;
  if (c.why.starts_with("close()") || c.why.starts_with("active open")) return Cause::sent;
  return Cause::either;
}

// The flag a change's segment carries, as its reason names it: "snd FIN", "rcv SYN,ACK" (not "rcv
// ACK of FIN", where the segment is an ACK).
bool wants_flag(std::string_view why, std::string_view flag) {
  return why.find(flag) != std::string_view::npos && why.find(fmt::format("ACK of {}", flag)) == std::string_view::npos;
}

// Of the segments its side received (or sent), the one nearest the change, preferring those with
// the flag its reason names: the kernel's clock for the change and the capture's for the segment
// may stand a few microseconds apart either way.
std::optional<std::size_t> nearest(const PlayChange& c, const WireIndex& wire, bool received) {
  std::optional<std::size_t> best;
  Duration best_gap{};
  bool best_flagged = false;
  for (std::size_t i = 0; i < wire.events.size(); ++i) {
    const WireEvent& w = *wire.events[i];
    if (w.info.connection != c.connection || w.injected || (w.info.from == c.side) == received) continue;
    const std::optional<Instant> at = received ? arrival(w) : std::optional<Instant>(w.at);
    if (!at) continue;
    const bool flagged = (wants_flag(c.why, "FIN") && w.segment.flags.fin()) ||
                         (wants_flag(c.why, "SYN") && w.segment.flags.syn());
    const Duration gap = *at > c.at ? *at - c.at : c.at - *at;
    if (!best || (flagged && !best_flagged) || (flagged == best_flagged && gap < best_gap)) {
      best = i, best_gap = gap, best_flagged = flagged;
    }
  }
  return best;
}

// The segment a change goes with, if any: see play_steps.
std::optional<std::size_t> segment_of(const PlayChange& c, const WireIndex& wire) {
  switch (cause_of(c)) {
    case Cause::received: return nearest(c, wire, true);
    case Cause::sent: return nearest(c, wire, false);
    case Cause::either: break;
  }
  // Not the diagram's step, or a timer's: only a segment right beside it on its connection.
  std::optional<std::size_t> received, last_before, first_after;
  for (std::size_t i = 0; i < wire.events.size(); ++i) {
    const WireEvent& w = *wire.events[i];
    if (w.info.connection != c.connection) continue;
    if (w.info.from != c.side)
      if (const auto at = arrival(w); at && *at <= c.at && (!received || *at >= *arrival(*wire.events[*received])))
        received = i;
    if (w.at <= c.at) last_before = i;
    if (w.at >= c.at && !first_after) first_after = i;
  }
  if (received && received == last_before) return received;
  if (first_after && wire.events[*first_after]->info.from == c.side) return first_after;
  return std::nullopt;
}
}  // namespace

std::vector<PlayStep> play_steps(const Trace& trace, const std::vector<StateBand>& bands, const WireIndex& wire) {
  std::vector<PlayStep> steps(wire.events.size());
  for (std::size_t i = 0; i < wire.events.size(); ++i) {
    steps[i].at = wire.events[i]->at;
    steps[i].segment = i;
  }
  std::vector<PlayStep> alone;
  // The segment each side's last change on each connection went with.
  std::map<std::pair<Side, std::size_t>, std::size_t> last_segment;
  for (const PlayChange& c : changes_of(trace, bands)) {
    const auto key = std::make_pair(c.side, c.connection.value);
    // A handover within one state (a request socket to its child, a full socket to its timewait
    // socket) is no step of the diagram: it goes where that state began, or the next step could
    // show the state before one a segment already moved past (the child's SYN_RECV comes
    // microseconds before its ESTABLISHED, but matched to a later segment).
    const auto before = last_segment.find(key);
    const auto seg = c.from == c.to && before != last_segment.end() ? std::optional<std::size_t>(before->second)
                                                                    : segment_of(c, wire);
    if (seg) {
      last_segment[key] = *seg;
      steps[*seg].changes.push_back(c);
    } else {
      alone.push_back({c.at, std::nullopt, {c}});
    }
  }
  // Segments in wire order, lone changes where their time puts them (after a segment of the same instant).
  for (PlayStep& a : alone) {
    const auto at = std::upper_bound(steps.begin(), steps.end(), a.at,
                                     [](Instant t, const PlayStep& s) { return t < s.at; });
    steps.insert(at, std::move(a));
  }
  for (PlayStep& s : steps)
    std::stable_sort(s.changes.begin(), s.changes.end(), [](const PlayChange& a, const PlayChange& b) { return a.at < b.at; });
  return steps;
}

std::optional<TcpState> state_after(const std::vector<PlayStep>& steps, std::size_t step, Side side,
                                    ConnectionIndex connection) {
  std::optional<TcpState> state, first_from;
  for (std::size_t i = 0; i < steps.size(); ++i)
    for (const PlayChange& c : steps[i].changes) {
      if (c.side != side || c.connection != connection) continue;
      if (!first_from) first_from = c.from;
      if (i <= step) state = c.to;
    }
  return state ? state : first_from;
}

std::vector<TcpState> state_path(const std::vector<PlayStep>& steps, Side side, ConnectionIndex connection) {
  std::vector<TcpState> path;
  for (const PlayStep& s : steps)
    for (const PlayChange& c : s.changes) {
      if (c.side != side || c.connection != connection) continue;
      if (path.empty()) path.push_back(c.from);
      if (path.back() != c.to) path.push_back(c.to);  // two sockets may hold one state in turn
    }
  return path;
}

std::optional<std::size_t> step_with_role(const std::vector<PlayStep>& steps, const WireIndex& wire, Role role,
                                          std::size_t nth) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < steps.size(); ++i)
    if (steps[i].segment && wire.events[*steps[i].segment]->info.roles.has(role) && ++seen == nth) return i;
  return std::nullopt;
}

}  // namespace lastack
