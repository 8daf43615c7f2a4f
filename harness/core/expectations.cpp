// Policy expectations: each [[expect]] kind checked over the trace, with the numbers it saw.
#include "harness/core/expectations.hpp"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "harness/core/decision.hpp"
#include "harness/core/duration_text.hpp"
#include "harness/core/trace_query.hpp"

namespace lastack {
namespace {

CheckResult expectation(std::string name, std::size_t line) {
  CheckResult r;
  r.name = std::move(name);
  r.line = line;
  return r;
}

std::string join(const std::vector<std::string>& items, std::string_view sep = "; ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

// How many segments a verdict lists before it writes "...".
constexpr std::size_t listed_segments = 5;
constexpr std::size_t listed_close_segments = 8;  // a close with a few retransmissions fits

// "second-fin from server on connection 2"; "fin with data from client" when `with` is given.
std::string selector_text(const Selector& sel, std::optional<Role> with = std::nullopt) {
  std::string out = sel.segment ? std::string(role_name(*sel.segment)) : "segment";
  if (with) out += fmt::format(" with {}", role_name(*with));
  if (sel.from) out += fmt::format(" from {}", side_name(*sel.from));
  if (sel.connection) out += fmt::format(" on connection {}", *sel.connection);
  return out;
}

std::string times_text(std::size_t n) {
  if (n == 1) return "once";
  if (n == 2) return "twice";
  return fmt::format("{} times", n);
}

// "1 segment", "3 segments".
std::string counted(std::size_t n, std::string_view noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

// The first `limit` items, then "..." when there were more.
std::string first_few(const std::vector<std::string>& items, std::size_t limit) {
  const auto shown_count = static_cast<std::ptrdiff_t>(std::min(limit, items.size()));
  std::vector<std::string> shown(items.begin(), items.begin() + shown_count);
  if (items.size() > limit) shown.emplace_back("...");
  return join(shown, ", ");
}

// What sets a segment apart in a list: "retransmission", "dropped"; empty for a plain one.
std::vector<std::string> segment_notes(const WireEvent& w) {
  std::vector<std::string> notes;
  if (w.info.roles.has(Role::retransmission)) notes.emplace_back("retransmission");
  if (w.fate != Fate::passed) notes.emplace_back(fate_name(w.fate));
  return notes;
}

// Distinct connections on the wire (0-based), in order of first appearance, with their segments.
std::vector<std::pair<std::size_t, std::vector<const WireEvent*>>> wire_connections(
    const Trace& trace) {
  std::vector<std::pair<std::size_t, std::vector<const WireEvent*>>> out;
  for (const WireEvent* w : wire_events(trace)) {
    auto it = std::find_if(out.begin(), out.end(),
                           [w](const auto& c) { return c.first == w->info.connection; });
    if (it == out.end()) it = out.insert(out.end(), {w->info.connection, {}});
    it->second.push_back(w);
  }
  return out;
}

std::string sides_text(const std::set<Side>& sides) {
  if (sides.empty()) return "nobody";
  std::vector<std::string> names;
  for (Side s : sides) names.emplace_back(side_name(s));
  return join(names, " and ");
}

bool same_text_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool within(Duration gap, Duration want) {
  const Duration diff = gap > want ? gap - want : want - gap;
  return diff <= gap_tolerance(want);
}

// The side's connection sockets (not its listener), in order of first sample.
std::vector<SocketHistory> connection_sockets(const Trace& trace, Side side) {
  auto histories = socket_histories(trace);
  std::erase_if(histories, [side](const SocketHistory& h) { return h.side != side || h.listener; });
  return histories;
}

std::string paths_text(const std::vector<SocketHistory>& sockets) {
  if (sockets.size() == 1) return state_path_text(sockets.front().states());
  std::vector<std::string> parts;
  for (const auto& h : sockets)
    parts.push_back(fmt::format("port {}: {}", h.local_port, state_path_text(h.states())));
  return join(parts);
}

}  // namespace

CheckResult check_retransmitted(const Trace& trace, const RetransmittedExpect& x) {
  const std::string what = selector_text(x.segment);
  const bool never = x.count == 0u;
  CheckResult r = expectation(never ? "no retransmission of " + what : "retransmitted " + what,
                              x.line);
  r.expected =
      never ? fmt::format("the first {} never retransmitted", what)
      : x.count ? fmt::format("the first {} retransmitted exactly {}", what, times_text(*x.count))
                : fmt::format("the first {} retransmitted at least once", what);

  const WireEvent* original = nullptr;
  for (const WireEvent* w : wire_events(trace)) {
    if (!w->info.roles.has(Role::retransmission) && !w->injected && selector_matches(x.segment, w->info)) {
      original = w;
      break;
    }
  }
  const auto again =
      original ? retransmissions_of(trace, *original) : std::vector<const WireEvent*>{};
  const auto rto =
      original ? rto_for(trace, *original, again.empty() ? Instant::max() : again.front()->at)
               : std::nullopt;
  std::optional<Duration> want_gap;
  if (x.after_rto) {
    want_gap = rto ? Duration(*rto) : Duration(tcp_rto_min);
    r.expected += rto ? fmt::format(", the first about 1 RTO ({}) ± {} after the original",
                                    ms_text(*want_gap), ms_text(gap_tolerance(*want_gap)))
                      : fmt::format(
                            ", the first about TCP_RTO_MIN (200 ms, no RTO sampled) "
                            "± {} after the original",
                            ms_text(gap_tolerance(*want_gap)));
  } else if (x.after) {
    want_gap = *x.after;
    r.expected += fmt::format(", the first {} ± {} after the original", ms_text(*want_gap),
                              ms_text(gap_tolerance(*want_gap)));
  }
  if (x.backoff) r.expected += ", each later gap about double the one before";
  if (!original) {
    r.saw = fmt::format("no {} on the wire", what);
    return r;
  }

  std::vector<Duration> gaps;
  Instant previous = original->at;
  for (const WireEvent* w : again) {
    gaps.push_back(w->at - previous);
    previous = w->at;
  }

  // The count is in the saw text already; problems lists only what it does not show.
  const bool count_ok = x.count ? again.size() == *x.count : !again.empty();
  std::vector<std::string> problems;
  if (want_gap && !gaps.empty() && !within(gaps.front(), *want_gap)) {
    problems.push_back(fmt::format("first gap {} is outside {} ± {}", ms_text(gaps.front()),
                                   ms_text(*want_gap), ms_text(gap_tolerance(*want_gap))));
  }
  if (x.backoff) {
    // A tail-loss probe first re-arms the timer without backing off: doubling starts after it.
    const std::size_t probes = leading_probes(gaps, rto);
    if (gaps.size() < 2 + probes)
      problems.push_back(fmt::format("backoff needs at least two timer retransmissions{}",
                                     probes ? " after the tail-loss probe" : ""));
    for (std::size_t i = 1 + probes; i < gaps.size(); ++i) {
      if (!within(gaps[i], 2 * gaps[i - 1])) {
        problems.push_back(fmt::format("gap {} ({}) is not double gap {} ({})", i + 1,
                                       ms_text(gaps[i]), i, ms_text(gaps[i - 1])));
      }
    }
  }
  r.passed = count_ok && problems.empty();

  if (again.empty()) {
    r.saw = fmt::format("{} sent at {}, never retransmitted", segment_text(*original),
                        ms_text(original->at));
  } else {
    const bool same_seq = std::all_of(again.begin(), again.end(), [&](const WireEvent* w) {
      return w->segment.seq == original->segment.seq;
    });
    r.saw = fmt::format("retransmitted {}, {} ({}), gap{} {} ({}{})", times_text(again.size()),
                        same_seq ? fmt::format("same seq {}", original->info.rel_seq)
                                 : fmt::format("covering seq {}", original->info.rel_seq),
                        original->segment.flags.tcpdump(), gaps.size() == 1 ? "" : "s",
                        ms_list_text(gaps), retransmission_mechanism(gaps, rto),
                        rto ? fmt::format("; RTO {}", ms_text(*rto)) : "; no RTO sampled");
  }
  if (x.after_rto && !rto) r.saw += "; assumed TCP_RTO_MIN 200 ms";
  if (!problems.empty()) r.saw += ": " + join(problems);
  return r;
}

CheckResult check_state(const Trace& trace, const StateExpect& x) {
  const std::string side(side_name(x.side));
  std::vector<std::string> wants;
  if (x.reaches) wants.push_back(fmt::format("reaches {}", state_name(*x.reaches)));
  if (x.ends_in) wants.push_back(fmt::format("ends in {}", state_name(*x.ends_in)));
  if (x.never) wants.push_back(fmt::format("never enters {}", state_name(*x.never)));
  CheckResult r = expectation(fmt::format("state {} {}", side, join(wants, ", ")), x.line);
  r.expected = fmt::format("the {}'s socket {}", side, join(wants, " and "));

  const auto sockets = connection_sockets(trace, x.side);
  std::vector<std::string> problems;
  if (sockets.empty()) {
    r.passed = !x.reaches && !x.ends_in;
    r.saw = fmt::format("no socket samples for the {}", side);
    return r;
  }
  const auto reached = [&](TcpState s) {
    return std::any_of(sockets.begin(), sockets.end(),
                       [s](const SocketHistory& h) { return h.reached(s); });
  };
  if (x.reaches && !reached(*x.reaches))
    problems.push_back(fmt::format("never reached {}", state_name(*x.reaches)));
  if (x.ends_in) {
    for (const auto& h : sockets) {
      if (h.events.back()->state != *x.ends_in)
        problems.push_back(fmt::format("ended in {}", state_name(h.events.back()->state)));
    }
  }
  if (x.never && reached(*x.never))
    problems.push_back(fmt::format("entered {}", state_name(*x.never)));
  r.passed = problems.empty();
  r.saw = paths_text(sockets);
  if (!r.passed) r.saw += " (" + join(problems) + ")";
  return r;
}

CheckResult check_reset(const Trace& trace, const ResetExpect& x) {
  const std::string who = x.from ? std::string(side_name(*x.from)) : "either side";
  const bool none = x.count == 0u;
  CheckResult r = expectation(none ? "no RST from " + who : "reset from " + who, x.line);
  r.expected = none      ? fmt::format("no RST from {}", who)
               : x.count ? fmt::format("exactly {} from {}", counted(*x.count, "RST"), who)
                         : fmt::format("at least one RST from {}", who);
  std::vector<std::string> seen;
  for (const WireEvent* w : wire_events(trace)) {
    if (w->segment.flags.rst() && (!x.from || w->info.from == *x.from))
      seen.push_back(fmt::format("{} at {}", segment_text(*w), ms_text(w->at)));
  }
  r.passed = x.count ? seen.size() == *x.count : !seen.empty();
  r.saw = seen.empty()
              ? fmt::format("no RST from {} on the wire", who)
              : fmt::format("{}: {}", counted(seen.size(), "RST"), join(seen));
  return r;
}

CheckResult check_app(const Trace& trace, const AppExpect& x) {
  const std::string side(side_name(x.side));
  std::vector<std::string> wants;
  if (x.sees) wants.push_back(fmt::format("sees {}", *x.sees));
  if (x.received) wants.push_back(fmt::format("received {} bytes", *x.received));
  if (x.sent) wants.push_back(fmt::format("sent {} bytes", *x.sent));
  CheckResult r = expectation(fmt::format("app {} {}", side, join(wants, ", ")), x.line);
  std::vector<std::string> expected;
  if (x.sees) {
    expected.push_back(same_text_ignoring_case(*x.sees, "ok")
                           ? "every step ok (or eof)"
                           : fmt::format("a step ending in {}", *x.sees));
  }
  if (x.received) expected.push_back(fmt::format("{} bytes read", *x.received));
  if (x.sent) expected.push_back(fmt::format("{} bytes written", *x.sent));
  r.expected = fmt::format("the {} app: {}", side, join(expected, ", "));

  std::vector<std::string> steps;
  std::uint64_t received = 0, sent = 0;
  bool all_ok = true, saw_outcome = false;
  for (const TraceEvent& ev : trace.events) {
    const auto* a = std::get_if<AppEvent>(&ev);
    if (!a || a->side != x.side) continue;
    steps.push_back(a->bytes > 0 ? fmt::format("{}: {} ({} bytes)", a->step, a->outcome, a->bytes)
                                 : fmt::format("{}: {}", a->step, a->outcome));
    if (a->step.rfind("recv", 0) == 0) received += a->bytes;
    if (a->step.rfind("send", 0) == 0) sent += a->bytes;
    all_ok = all_ok && (a->outcome == "ok" || a->outcome == "eof");
    if (x.sees && same_text_ignoring_case(a->outcome, *x.sees)) saw_outcome = true;
  }
  std::vector<std::string> problems;
  if (x.sees) {
    const bool ok = same_text_ignoring_case(*x.sees, "ok") ? all_ok : saw_outcome;
    if (!ok) problems.push_back(fmt::format("no {}", *x.sees));
  }
  if (x.received && received != *x.received)
    problems.push_back(fmt::format("read {} bytes, not {}", received, *x.received));
  if (x.sent && sent != *x.sent)
    problems.push_back(fmt::format("wrote {} bytes, not {}", sent, *x.sent));
  r.passed = problems.empty();
  r.saw = steps.empty()
              ? fmt::format("no {} app steps", side)
              : fmt::format("{}; read {} bytes, wrote {} bytes", join(steps, ", "), received, sent);
  if (!r.passed) r.saw += " (" + join(problems) + ")";
  return r;
}

CheckResult check_timewait(const Trace& trace, const TimeWaitExpect& x) {
  std::vector<std::string> wants, expected;
  if (x.entered_by) {
    const std::set<Side> sides(x.entered_by->begin(), x.entered_by->end());
    wants.push_back("entered by " + sides_text(sides));
    expected.push_back(sides.empty()
                           ? "no side enters TIME_WAIT"
                           : fmt::format("exactly {} enter{} TIME_WAIT", sides_text(sides),
                                         sides.size() == 1 ? "s" : ""));
  }
  if (x.expires_min || x.expires_max) {
    const std::string lo = x.expires_min ? seconds_text(*x.expires_min) : "0 s";
    const std::string hi = x.expires_max ? seconds_text(*x.expires_max) : "any";
    wants.push_back(fmt::format("timer {}..{}", lo, hi));
    expected.push_back(
        fmt::format("the TIME_WAIT timer between {} and {} when first seen", lo, hi));
  }
  if (x.restarted) {
    wants.push_back(*x.restarted ? "restarted" : "not restarted");
    expected.push_back(*x.restarted ? "the TIME_WAIT timer restarted (by a retransmitted FIN)"
                                    : "the TIME_WAIT timer never restarted");
  }
  CheckResult r = expectation("timewait " + join(wants, ", "), x.line);
  r.expected = join(expected, "; ");

  std::set<Side> entered;
  std::vector<std::string> seen, problems;
  bool restarted = false;
  for (const SocketHistory& h : socket_histories(trace)) {
    std::vector<const SocketEvent*> tw;
    for (const SocketEvent* e : h.events) {
      if (e->state == TcpState::TIME_WAIT) tw.push_back(e);
    }
    if (tw.empty()) continue;
    entered.insert(h.side);
    seen.push_back(fmt::format("{} entered TIME_WAIT with {} left (at {})", side_name(h.side),
                               seconds_text(tw.front()->expires), ms_text(tw.front()->at)));
    if ((x.expires_min && tw.front()->expires < *x.expires_min) ||
        (x.expires_max && tw.front()->expires > *x.expires_max))
      problems.push_back(fmt::format("{}'s timer out of range", side_name(h.side)));
    for (std::size_t i = 1; i < tw.size(); ++i) {
      if (timewait_restarted(*tw[i - 1], *tw[i])) {
        restarted = true;
        seen.push_back(fmt::format("{}'s timer restarted at {} ({} left)", side_name(h.side),
                                   ms_text(tw[i]->at), seconds_text(tw[i]->expires)));
      }
    }
  }
  if (entered.empty()) seen.push_back("nobody entered TIME_WAIT");
  if (x.entered_by && entered != std::set<Side>(x.entered_by->begin(), x.entered_by->end()))
    problems.push_back(fmt::format("entered by {}", sides_text(entered)));
  if ((x.expires_min || x.expires_max) && entered.empty())
    problems.push_back("no timer to measure");
  if (x.restarted && *x.restarted != restarted)
    problems.push_back(restarted ? "the timer restarted" : "the timer never restarted");
  r.passed = problems.empty();
  r.saw = join(seen);
  if (x.restarted && !restarted && !entered.empty()) r.saw += "; timer never restarted";
  if (!r.passed) r.saw += " (" + join(problems) + ")";
  return r;
}

CheckResult check_segments(const Trace& trace, const SegmentsExpect& x) {
  const std::string what = selector_text(x.segment, x.with);
  CheckResult r = expectation("segments " + what, x.line);
  // Neither count nor bounds (the parser never allows it): at least one.
  const std::uint32_t at_least = x.min.value_or(x.max ? 0 : 1);
  std::string how_many;
  if (x.count) how_many = *x.count == 0 ? "no segment" : "exactly " + counted(*x.count, "segment");
  else if (x.min && x.max) how_many = fmt::format("between {} and {} segments", *x.min, *x.max);
  else if (x.max) how_many = "at most " + counted(*x.max, "segment");
  else how_many = "at least " + counted(at_least, "segment");
  r.expected = fmt::format("{} matching {} on the wire, whatever their fate", how_many, what);

  std::vector<std::string> seen;
  for (const WireEvent* w : wire_events(trace)) {
    if (!selector_matches(x.segment, w->info) || (x.with && !w->info.roles.has(*x.with))) continue;
    const auto notes = segment_notes(*w);
    seen.push_back(fmt::format("{} at {}{}", segment_text(*w), ms_text(w->at),
                               notes.empty() ? "" : " (" + join(notes, ", ") + ")"));
  }
  const std::size_t n = seen.size();
  r.passed = x.count ? n == *x.count : n >= at_least && (!x.max || n <= *x.max);
  r.saw = seen.empty()
              ? fmt::format("no segment matching {} on the wire", what)
              : fmt::format("{}: {}", counted(n, "segment"), first_few(seen, listed_segments));
  return r;
}

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
  r.passed = true;
  std::vector<std::string> per_connection;
  for (const auto& [connection, wires] : connections) {
    // The close: from the first FIN's first transmission through the first final-ack.
    std::vector<std::string> close;
    bool completed = false;
    for (const WireEvent* w : wires) {
      if (close.empty() && !w->segment.flags.fin()) continue;
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
    r.passed = r.passed && completed && close.size() == x.segments;
    per_connection.push_back(connections.size() == 1 && !x.connection
                                 ? text
                                 : fmt::format("connection {}: {}", connection + 1, text));
  }
  r.saw = join(per_connection);
  return r;
}

CheckResult check_connections(const Trace& trace, const ConnectionsExpect& x) {
  CheckResult r = expectation("connections", x.line);
  r.expected = fmt::format("exactly {} on the wire", counted(x.count, "connection"));
  const auto connections = wire_connections(trace);
  std::vector<std::string> seen;
  for (const auto& [connection, wires] : connections) {
    const WireEvent& first = *wires.front();
    const auto client_port =
        first.info.from == Side::client ? first.segment.sport : first.segment.dport;
    seen.push_back(fmt::format("{} (client port {}, {})", connection + 1, client_port,
                               counted(wires.size(), "segment")));
  }
  r.passed = connections.size() == x.count;
  r.saw = seen.empty()
              ? "no connection on the wire"
              : fmt::format("{}: {}", counted(seen.size(), "connection"), join(seen, ", "));
  return r;
}

}  // namespace lastack
