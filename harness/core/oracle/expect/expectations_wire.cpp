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
#include "harness/core/oracle/words/finding_words.hpp"

namespace lastack {

using namespace detail;

namespace {

CountBound<std::int64_t> widened(const CountBound<std::uint32_t>& b) {
  CountBound<std::int64_t> out;
  if (b.count) out.count = *b.count;
  if (b.min) out.min = *b.min;
  if (b.max) out.max = *b.max;
  return out;
}

// True when `w` is a pure ACK (no SYN, FIN, RST, no payload) that acknowledges none of its
// peer's FIN (`peer_fin`: where that FIN is, when one was sent): it acknowledges data only.
bool acks_only_data(const WireEvent& w, std::optional<SeqNum> peer_fin) {
  const TcpFlags& f = w.segment.flags;
  if (f.syn() || f.fin() || f.rst() || !f.ack() || w.segment.payload_len > 0) return false;
  return !peer_fin || !w.segment.ack.after(*peer_fin);
}

// One connection's close: from the first FIN's first transmission through the first final-ack.
CloseSeen close_of(ConnectionIndex connection, const std::vector<const WireEvent*>& wires) {
  CloseSeen out{number_of(connection), {}, false};
  PerSide<std::optional<SeqNum>> fin_at;  // each side's first FIN so far
  for (const WireEvent* w : wires) {
    if (out.segments.empty() && !w->segment.flags.fin()) continue;
    if (w->segment.flags.fin() && !fin_at[w->info.from]) fin_at[w->info.from] = w->segment.seq + w->segment.payload_len;
    // A pure ACK of data the peer sent before its FIN is the data's, not the close's.
    if (acks_only_data(*w, fin_at[peer_of(w->info.from)])) {
      ++out.data_acks;
      continue;
    }
    out.segments.push_back(*w);
    if (w->info.roles.has(Role::final_ack)) {
      out.completed = true;
      break;
    }
  }
  return out;
}

}  // namespace

CheckResult check_segments(const Trace& trace, const SegmentsExpect& x) {
  const Selector& sel = x.segment;
  // Neither count nor bounds (the parser never allows it): at least one.
  CountClaim claim{widened(x.bound), false};
  if (!claim.bound.count && !claim.bound.min && !claim.bound.max) claim.bound.min = 1;
  Finding f{CheckId{CheckKind::segments, selector_subject(trace, sel, x.with), {}},
            claim, NothingSeen{}, {}, {}, {}};
  if (wire_events(trace).empty()) {  // a count of nothing proves nothing
    f.why_not = NotChecked{Unjudged::nothing_on_wire, {}, {}};
    return judged(std::move(f), Outcome::not_checked, x.line);
  }
  const bool about_retransmissions = sel.segment == Role::retransmission || x.with == Role::retransmission;
  if (const auto why = about_retransmissions ? unnamed_retransmissions(trace, sel) : std::nullopt) {
    f.why_not = NotChecked{Unjudged::no_kernel_word, *why, {}};
    return judged(std::move(f), Outcome::not_checked, x.line);
  }
  SegmentsSeen seen;
  for (const WireEvent* w : wire_events(trace))
    if (selector_matches(sel, w->info) && (!x.with || w->info.roles.has(*x.with))) seen.matched.push_back(*w);
  const auto n = static_cast<std::int64_t>(seen.matched.size());
  f.saw = std::move(seen);
  CheckResult r = judged(std::move(f), outcome_of(claim.bound.admits(n)), x.line);
  // Segments still to come can break an upper bound, or reach a lower one.
  const auto& b = claim.bound;
  const bool upper = b.count || b.max;
  judge_window(r, trace, {upper, n < (b.count ? *b.count : b.min.value_or(0))});
  return r;
}


CheckResult check_close(const Trace& trace, const CloseExpect& x) {
  CountClaim claim;
  claim.bound.count = x.segments;
  Finding f{CheckId{CheckKind::close, CheckSubject{{}, {}, {}, {}, x.connection, {}}, {}}, claim, NothingSeen{}, {}, {}, {}};
  auto connections = wire_connections(trace);
  ClosesSeen seen;
  if (x.connection) {
    std::erase_if(connections, [&](const auto& c) { return number_of(c.first) != *x.connection; });
    if (connections.empty()) seen.missing = x.connection;
  }
  seen.numbered = connections.size() != 1 || x.connection;
  bool all_ok = !connections.empty();
  for (const auto& [connection, wires] : connections) {
    seen.closes.push_back(close_of(connection, wires));
    all_ok = all_ok && seen.closes.back().completed && seen.closes.back().segments.size() == x.segments;
  }
  f.saw = std::move(seen);
  CheckResult r = judged(std::move(f), outcome_of(all_ok), x.line);
  if (!connections.empty()) judge_window(r, trace, {true, true});  // a close still going can grow or complete
  return r;
}

CheckResult check_connections(const Trace& trace, const ConnectionsExpect& x) {
  CountClaim claim;
  claim.bound.count = x.count;
  Finding f{CheckId{CheckKind::connections, {}, {}}, claim, NothingSeen{}, {}, {}, {}};
  const auto connections = wire_connections(trace);
  if (connections.empty() && x.count == 0) {
    f.why_not = NotChecked{Unjudged::nothing_on_wire, {}, {}};
    return judged(std::move(f), Outcome::not_checked, x.line);
  }
  ConnectionsSeen seen;
  for (const auto& [connection, wires] : connections) {
    const WireEvent& first = *wires.front();
    const auto client_port = first.info.from == Side::client ? first.segment.sport : first.segment.dport;
    seen.connections.push_back({number_of(connection), client_port, wires.size()});
  }
  f.saw = std::move(seen);
  CheckResult r = judged(std::move(f), outcome_of(connections.size() == x.count), x.line);
  judge_window(r, trace, {true, connections.size() < x.count});
  return r;
}

}  // namespace lastack
