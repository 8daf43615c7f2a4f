// Policy expectations over the wire alone: segment counts, the close's length, connections.
#include "harness/core/oracle/expect/expectations_wire.hpp"

#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/core/decide/decision.hpp"
#include "harness/core/base/duration_text.hpp"
#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/oracle/expect/expectations.hpp"
#include "harness/core/oracle/window.hpp"

namespace lastack {

using namespace detail;

CheckResult check_segments(const Trace& trace, const SegmentsExpect& x) {
  const std::string what = selector_text(trace, x.segment, x.with);
  CheckResult r = expectation("segments " + what, x.line);
  // Neither count nor bounds (the parser never allows it): at least one.
  const CountBound<std::uint32_t>& b = x.bound;
  const std::uint32_t at_least = b.min.value_or(b.max ? 0 : 1);
  std::string how_many;
  if (b.count) how_many = *b.count == 0 ? "no segment" : "exactly " + counted(*b.count, "segment");
  else if (b.min && b.max) how_many = fmt::format("between {} and {} segments", *b.min, *b.max);
  else if (b.max) how_many = "at most " + counted(*b.max, "segment");
  else how_many = "at least " + counted(at_least, "segment");
  r.expected = fmt::format("{} matching {} on the wire, whatever their fate", how_many, what);

  if (wire_events(trace).empty()) {  // a count of nothing proves nothing
    r.outcome = Outcome::not_checked;
    r.saw = "nothing on the wire";
    return r;
  }
  const bool about_retransmissions = x.segment.segment == Role::retransmission || x.with == Role::retransmission;
  if (const auto why = about_retransmissions ? unnamed_retransmissions(trace, x.segment) : std::nullopt) {
    r.outcome = Outcome::not_checked;
    r.saw = *why;
    return r;
  }
  std::vector<std::string> seen;
  for (const WireEvent* w : wire_events(trace)) {
    if (!selector_matches(x.segment, w->info) || (x.with && !w->info.roles.has(*x.with))) continue;
    const auto notes = segment_notes(*w);
    seen.push_back(fmt::format("{} at {}{}", segment_text(*w), ms_text(w->at),
                               notes.empty() ? "" : " (" + join(notes, ", ") + ")"));
  }
  const std::size_t n = seen.size();
  r.outcome = outcome_of(b.count ? n == *b.count : n >= at_least && (!b.max || n <= *b.max));
  r.saw = seen.empty()
              ? fmt::format("no segment matching {} on the wire", what)
              : fmt::format("{}: {}", counted(n, "segment"), first_few(seen, listed_segments));
  // Segments still to come can break an upper bound, or reach a lower one.
  const std::optional<std::uint32_t> upper = b.count ? b.count : b.max;
  judge_window(r, trace, {upper.has_value(), n < (b.count ? *b.count : at_least)});
  return r;
}

namespace {
/// True when `w` is a pure ACK (no SYN, FIN, RST, no payload) that acknowledges none of its
/// peer's FIN (`peer_fin`: where that FIN is, when one was sent): it acknowledges data only.
bool acks_only_data(const WireEvent& w, std::optional<SeqNum> peer_fin) {
  const TcpFlags& f = w.segment.flags;
  if (f.syn() || f.fin() || f.rst() || !f.ack() || w.segment.payload_len > 0) return false;
  return !peer_fin || !w.segment.ack.after(*peer_fin);
}
}  // namespace

CheckResult check_close(const Trace& trace, const CloseExpect& x) {
  const std::string where = x.connection ? fmt::format(" on connection {}", *x.connection) : "";
  CheckResult r = expectation(fmt::format("close in {}{}", counted(x.segments, "segment"), where),
                              x.line);
  r.expected = fmt::format(
      "the close of {} in exactly {}, from the first FIN through the first final-ack (both "
      "directions, retransmissions included)",
      x.connection ? fmt::format("connection {}", *x.connection) : "every connection",
      counted(x.segments, "segment"));

  auto connections = wire_connections(trace);
  if (x.connection) {
    std::erase_if(connections, [&](const auto& c) { return c.first + 1 != *x.connection; });
    if (connections.empty()) {
      r.saw = fmt::format("no connection {} on the wire", *x.connection);
      return r;
    }
  }
  if (connections.empty()) {
    r.saw = "no connection on the wire";
    return r;
  }
  bool all_ok = true;
  std::vector<std::string> per_connection;
  for (const auto& [connection, wires] : connections) {
    // The close: from the first FIN's first transmission through the first final-ack.
    std::vector<std::string> close;
    bool completed = false;
    std::size_t data_acks = 0;
    PerSide<std::optional<SeqNum>> fin_at;  // each side's first FIN so far
    for (const WireEvent* w : wires) {
      if (close.empty() && !w->segment.flags.fin()) continue;
      if (w->segment.flags.fin() && !fin_at[w->info.from]) fin_at[w->info.from] = w->segment.seq + w->segment.payload_len;
      // A pure ACK of data the peer sent before its FIN is the data's, not the close's: on a
      // long path ([link]) it crosses the FIN on the wire.
      if (acks_only_data(*w, fin_at[peer_of(w->info.from)])) {
        ++data_acks;
        continue;
      }
      std::vector<std::string> notes{std::string(side_name(w->info.from))};
      if (w->info.roles.has(Role::first_fin_ack)) notes.emplace_back("acks the first FIN");
      if (w->segment.payload_len > 0)
        notes.push_back(fmt::format("len {}", w->segment.payload_len));
      for (auto& note : segment_notes(*w)) notes.push_back(std::move(note));
      close.push_back(fmt::format("{} ({})", w->segment.flags.tcpdump(), join(notes, ", ")));
      if (w->info.roles.has(Role::final_ack)) {
        completed = true;
        break;
      }
    }
    const std::string segments = first_few(close, listed_close_segments);
    std::string text;
    if (close.empty())
      text = "no FIN on the wire";
    else if (!completed)
      text = fmt::format("the close never completed (no final-ack): {} from the first FIN: {}",
                         counted(close.size(), "segment"), segments);
    else
      text = fmt::format("{}: {}", counted(close.size(), "segment"), segments);
    if (data_acks > 0 && !close.empty())
      text += fmt::format(" (not counted: {} ACK{} of data sent before the FIN)", data_acks, data_acks == 1 ? "" : "s");
    all_ok = all_ok && completed && close.size() == x.segments;
    per_connection.push_back(connections.size() == 1 && !x.connection
                                 ? text
                                 : fmt::format("connection {}: {}", connection + 1, text));
  }
  r.outcome = outcome_of(all_ok);
  r.saw = join(per_connection);
  judge_window(r, trace, {true, true});  // a close still going can grow or complete
  return r;
}

CheckResult check_connections(const Trace& trace, const ConnectionsExpect& x) {
  CheckResult r = expectation("connections", x.line);
  r.expected = fmt::format("exactly {} on the wire", counted(x.count, "connection"));
  const auto connections = wire_connections(trace);
  if (connections.empty() && x.count == 0) {
    r.outcome = Outcome::not_checked;
    r.saw = "nothing on the wire";
    return r;
  }
  std::vector<std::string> seen;
  for (const auto& [connection, wires] : connections) {
    const WireEvent& first = *wires.front();
    const auto client_port =
        first.info.from == Side::client ? first.segment.sport : first.segment.dport;
    seen.push_back(fmt::format("{} (client port {}, {})", connection + 1, client_port,
                               counted(wires.size(), "segment")));
  }
  r.outcome = outcome_of(connections.size() == x.count);
  r.saw = seen.empty()
              ? "no connection on the wire"
              : fmt::format("{}: {}", counted(seen.size(), "connection"), first_few(seen, listed_connections));
  judge_window(r, trace, {true, connections.size() < x.count});
  return r;
}

}  // namespace lastack
