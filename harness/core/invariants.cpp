// Built-in invariants: RFC 9293 and Linux behaviour that holds in every run. Each check says
// what it expected and what it saw, with the numbers.
#include "harness/core/invariants.hpp"

#include <algorithm>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "harness/core/duration_text.hpp"
#include "harness/core/trace_query.hpp"

namespace lastack {
namespace {

using std::chrono::milliseconds;

CheckResult builtin(std::string name, std::string expected) {
  CheckResult r;
  r.name = std::move(name);
  r.builtin = true;
  r.expected = std::move(expected);
  return r;
}

// The first few items, then how many more: a failure line stays readable.
std::string join_some(const std::vector<std::string>& items, std::size_t max = 3) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max; ++i) {
    if (!out.empty()) out += "; ";
    out += items[i];
  }
  if (items.size() > max) out += fmt::format("; and {} more", items.size() - max);
  return out;
}

Instant trace_end(const Trace& trace) {
  return trace.events.empty() ? Instant{} : event_time(trace.events.back());
}

std::string_view control_name(const Segment& s) {
  if (s.flags.syn()) return s.flags.ack() ? "SYN-ACK" : "SYN";
  return "FIN";
}

// The first later segment from the peer whose ack covers the control octet of `c`.
const WireEvent* acknowledgment_of(const std::vector<const WireEvent*>& wires, std::size_t i) {
  const WireEvent& c = *wires[i];
  const SeqNum payload_end = c.segment.seq + c.segment.payload_len;
  for (std::size_t j = i + 1; j < wires.size(); ++j) {
    const WireEvent& w = *wires[j];
    if (w.info.connection == c.info.connection && w.info.from != c.info.from &&
        w.segment.flags.ack() && w.segment.ack.after(payload_end))
      return &w;
  }
  return nullptr;
}

// The sender gave up: its socket vanished after retransmitting, or its app saw ETIMEDOUT.
bool closed_by_timeout(const Trace& trace, const WireEvent& dropped) {
  for (const TraceEvent& ev : trace.events) {
    const auto* a = std::get_if<AppEvent>(&ev);
    if (a && a->side == dropped.info.from && a->at >= dropped.at && a->outcome == "ETIMEDOUT")
      return true;
  }
  for (const SocketHistory& h : socket_histories(trace)) {
    if (h.side != dropped.info.from || (h.connection && *h.connection != dropped.info.connection))
      continue;
    for (std::size_t k = 1; k < h.events.size(); ++k) {
      const SocketEvent& e = *h.events[k];
      if (e.state == TcpState::CLOSE && e.at >= dropped.at && h.events[k - 1]->retransmits > 0)
        return true;
    }
  }
  return false;
}

bool timewait_enabled(const Trace& trace, Side side) {
  const auto& sysctls = side == Side::client ? trace.client_sysctls : trace.server_sysctls;
  const auto it = sysctls.find("net.ipv4.tcp_max_tw_buckets");
  if (it == sysctls.end()) return true;
  std::string value = it->second;
  std::erase_if(value, [](char ch) { return ch == ' ' || ch == '\t' || ch == '\n'; });
  return value != "0";
}

// A lab action destroyed this side's TIME_WAIT socket (the text names the side, or no side).
bool timewait_destroyed(const Trace& trace, Side side) {
  for (const TraceEvent& ev : trace.events) {
    const auto* l = std::get_if<LabEvent>(&ev);
    if (!l || l->what.rfind("destroyed TIME_WAIT", 0) != 0) continue;
    const bool names_side = l->what.find(side_name(side)) != std::string::npos;
    const bool names_other = l->what.find(side_name(peer_of(side))) != std::string::npos;
    if (names_side || !names_other) return true;
  }
  return false;
}

// A RST the lab put on the wire (inject-rst) in an endpoint's name: no kernel sent it.
bool injected(const WireEvent& w) { return w.injected; }

// `side`'s own kernel sent a RST on `connection`: it aborted.
bool sent_own_reset(const std::vector<const WireEvent*>& wires, std::size_t connection, Side side) {
  return std::any_of(wires.begin(), wires.end(), [&](const WireEvent* w) {
    return w->segment.flags.rst() && w->info.connection == connection && w->info.from == side &&
           !injected(*w);
  });
}

// A RST (the peer's, or one injected in its name) reached `side` on `connection`: that ends
// any state, TIME_WAIT included (RFC 1337), unless tcp_rfc1337 makes TIME_WAIT ignore it.
bool reset_reached(const std::vector<const WireEvent*>& wires, std::size_t connection, Side side,
                   bool only_injected) {
  return std::any_of(wires.begin(), wires.end(), [&](const WireEvent* w) {
    return w->segment.flags.rst() && w->info.connection == connection && w->info.from != side &&
           delivered(*w) && (!only_injected || injected(*w));
  });
}

// How one side of one connection closed, as the wire shows it.
struct CloseView {
  const WireEvent* fin = nullptr;           // its first FIN
  std::optional<Instant> peer_fin_arrival;  // when the peer's FIN first reached it
  bool fin_acked = false;                   // the peer acknowledged its FIN (and the ack arrived)
  // It sent a FIN before the peer's FIN reached it.
  bool active() const { return fin && (!peer_fin_arrival || fin->at < *peer_fin_arrival); }
};

CloseView close_view(const std::vector<const WireEvent*>& wires, std::size_t connection,
                     Side side) {
  CloseView v;
  for (const WireEvent* w : wires) {
    if (w->info.connection != connection) continue;
    if (w->info.from == side && w->segment.flags.fin() && !v.fin) v.fin = w;
    if (w->info.from != side && w->segment.flags.fin() && delivered(*w)) {
      const Instant at = arrival_time(*w);
      if (!v.peer_fin_arrival || at < *v.peer_fin_arrival) v.peer_fin_arrival = at;
    }
  }
  if (!v.fin) return v;
  for (const WireEvent* w : wires) {
    if (w->info.connection == connection && w->info.from != side && delivered(*w) &&
        w->segment.flags.ack() && w->segment.ack.at_or_after(v.fin->segment.seq_end()))
      v.fin_acked = true;
  }
  return v;
}

}  // namespace

CheckResult check_syn_fin_consume_seq(const Trace& trace) {
  CheckResult r =
      builtin("syn-fin-consume-seq", "every SYN and FIN acknowledged with ack = seq + len + 1");
  const auto wires = wire_events(trace);
  std::set<TransmissionKey> checked;  // a retransmitted SYN/FIN is the same sequence space
  std::vector<std::string> good, bad;
  std::size_t unacknowledged = 0;
  for (std::size_t i = 0; i < wires.size(); ++i) {
    const WireEvent& c = *wires[i];
    if (!c.segment.flags.syn() && !c.segment.flags.fin()) continue;
    if (!checked.insert(transmission_key(c)).second) continue;
    const WireEvent* ack = acknowledgment_of(wires, i);
    if (!ack) {
      ++unacknowledged;
      continue;
    }
    std::string text = fmt::format("{} from {} seq {}", control_name(c.segment),
                                   side_name(c.info.from), c.info.rel_seq);
    if (c.segment.payload_len > 0) text += fmt::format(" len {}", c.segment.payload_len);
    if (ack->segment.ack == c.segment.seq_end()) {
      good.push_back(text + fmt::format(", ack {}", ack->info.rel_ack));
    } else {
      bad.push_back(text + fmt::format(" acknowledged with ack {}, not {}", ack->info.rel_ack,
                                       c.info.rel_seq + c.segment.seq_space()));
    }
  }
  r.passed = bad.empty();
  if (!bad.empty()) {
    r.saw = join_some(bad);
  } else if (good.empty()) {
    r.saw =
        unacknowledged ? "no SYN or FIN was acknowledged on the wire" : "no SYN or FIN on the wire";
  } else {
    r.saw = fmt::format("{} SYN/FIN acknowledged at seq + len + 1 (last: {})", good.size(),
                        good.back());
  }
  if (unacknowledged && !good.empty())
    r.saw += fmt::format("; {} never acknowledged on the wire", unacknowledged);
  return r;
}

CheckResult check_dropped_is_retransmitted(const Trace& trace) {
  CheckResult r = builtin("dropped-is-retransmitted",
                          "every dropped segment that carries sequence space sent again from the "
                          "same sequence number, unless the connection is reset or the sender "
                          "times out");
  std::vector<std::string> resent, excused, missing;
  for (const WireEvent* d : wire_events(trace)) {
    if (d->fate != Fate::dropped || d->segment.seq_space() == 0) continue;
    const auto again = retransmissions_of(trace, *d);
    if (!again.empty()) {
      resent.push_back(fmt::format("{} resent {} after the drop", segment_text(*d),
                                   ms_text(again.front()->at - d->at)));
    } else if (reset_after(trace, d->info.connection, d->at)) {
      excused.push_back(segment_text(*d) + " not resent: the connection was reset");
    } else if (closed_by_timeout(trace, *d)) {
      excused.push_back(segment_text(*d) + " not resent: the sender timed out");
    } else {
      const auto rto = rto_for(trace, *d, Instant::max());
      std::string text =
          fmt::format("{} dropped at {} was never resent; the trace ends {} later",
                      segment_text(*d), ms_text(d->at), ms_text(trace_end(trace) - d->at));
      if (rto) text += fmt::format(" (sender's RTO {})", ms_text(*rto));
      missing.push_back(text);
    }
  }
  r.passed = missing.empty();
  if (!missing.empty()) {
    r.saw = join_some(missing);
  } else if (resent.empty() && excused.empty()) {
    r.saw = "no dropped segment carried sequence space";
  } else {
    resent.insert(resent.end(), excused.begin(), excused.end());
    r.saw = join_some(resent);
  }
  return r;
}

CheckResult check_retransmission_backoff(const Trace& trace) {
  CheckResult r = builtin("retransmission-backoff",
                          "each retransmission of a sequence number waits at least as long as "
                          "the one before (gaps under 50 ms after the first ignored)");
  // Every transmission of each sequence number: the first send, then its retransmissions.
  std::map<TransmissionKey, std::vector<const WireEvent*>> sends;
  std::vector<TransmissionKey> order;
  for (const WireEvent* w : wire_events(trace)) {
    if (w->segment.seq_space() == 0 || w->injected) continue;
    const TransmissionKey key = transmission_key(*w);
    const auto it = sends.find(key);
    if (it == sends.end()) {
      sends.emplace(key, std::vector<const WireEvent*>{w});
      order.push_back(key);
    } else if (kernel_retransmission(*w)) {
      it->second.push_back(w);
    }
  }
  std::vector<std::string> good, bad;
  for (const TransmissionKey& key : order) {
    const auto& v = sends.at(key);
    if (v.size() < 3) continue;
    std::vector<Duration> gaps;
    for (std::size_t i = 1; i < v.size(); ++i) gaps.push_back(v[i]->at - v[i - 1]->at);
    const auto rto = rto_for(trace, *v.front(), v[1]->at);
    std::string text =
        fmt::format("{}: {} retransmissions, gaps {} (first: {})", segment_text(*v.front()),
                    gaps.size(), ms_list_text(gaps), retransmission_mechanism(gaps, rto));
    Duration previous = gaps.front();
    std::string problem;
    for (std::size_t i = 1; i < gaps.size() && problem.empty(); ++i) {
      if (gaps[i] < milliseconds(50)) continue;  // a probe or fast retransmit, not the timer
      if (gaps[i] + gap_tolerance(previous) < previous) {
        problem = fmt::format("gap {} ({}) is shorter than the gap before it ({})", i + 1,
                              ms_text(gaps[i]), ms_text(previous));
      }
      previous = gaps[i];
    }
    if (problem.empty()) {
      good.push_back(text);
    } else {
      bad.push_back(text + ": " + problem);
    }
  }
  r.passed = bad.empty();
  if (!bad.empty()) {
    r.saw = join_some(bad);
  } else if (good.empty()) {
    r.saw = "no sequence number retransmitted twice";
  } else {
    r.saw = join_some(good);
  }
  return r;
}

CheckResult check_legal_states(const Trace& trace) {
  CheckResult r =
      builtin("legal-states", "every socket's state changes are steps of the TCP state diagram");
  std::vector<std::string> paths, bad;
  for (const SocketHistory& h : socket_histories(trace)) {
    const auto states = h.states();
    paths.push_back(fmt::format("{}: {}", socket_text(h), state_path_text(states)));
    for (std::size_t i = 1; i < states.size(); ++i) {
      if (states[i - 1] == TcpState::CLOSE) continue;  // gone: a later sample is a new socket
      if (!legal_transition(states[i - 1], states[i])) {
        bad.push_back(fmt::format("{}: {} → {} is not a legal step ({})", socket_text(h),
                                  state_name(states[i - 1]), state_name(states[i]),
                                  state_path_text(states)));
      }
    }
  }
  r.passed = bad.empty();
  r.saw = !bad.empty() ? join_some(bad) : paths.empty() ? "no socket samples" : join_some(paths, 4);
  return r;
}

CheckResult check_timewait_only_active_closers(const Trace& trace) {
  CheckResult r = builtin("timewait-only-active-closers",
                          "the side(s) that closed first, and only they, enter TIME_WAIT once "
                          "their close completes");
  const auto wires = wire_events(trace);
  auto histories = socket_histories(trace);
  std::set<std::size_t> connections;
  for (const WireEvent* w : wires) connections.insert(w->info.connection);
  for (const SocketHistory& h : histories) {
    if (h.connection) connections.insert(*h.connection);
  }
  // A socket the wire cannot place belongs to the only connection there is.
  for (SocketHistory& h : histories) {
    if (!h.connection && connections.size() <= 1)
      h.connection = connections.empty() ? 0 : *connections.begin();
  }
  if (connections.empty() && !histories.empty()) connections.insert(0);

  std::vector<std::string> summary, bad;
  for (const std::size_t c : connections) {
    const std::string prefix = connections.size() > 1 ? fmt::format("connection {}: ", c + 1) : "";
    std::vector<std::string> sides;
    for (const Side side : {Side::client, Side::server}) {
      const CloseView v = close_view(wires, c, side);
      std::vector<TcpState> states;
      for (const SocketHistory& h : histories) {
        if (h.side != side || h.connection != c || h.listener) continue;
        const auto s = h.states();
        states.insert(states.end(), s.begin(), s.end());
      }
      const auto went_through = [&states](std::initializer_list<TcpState> any) {
        return std::find_first_of(states.begin(), states.end(), any.begin(), any.end()) !=
               states.end();
      };
      const bool entered = went_through({TcpState::TIME_WAIT});
      // The kernel's own states settle who closed first; the wire's order is the fallback,
      // since crossing FINs can pass the interceptor microseconds apart either way.
      const bool passive = went_through({TcpState::CLOSE_WAIT, TcpState::LAST_ACK});
      const bool active =
          !passive &&
          (went_through({TcpState::FIN_WAIT1, TcpState::FIN_WAIT2, TcpState::CLOSING}) ||
           v.active());
      const bool sent_rst = sent_own_reset(wires, c, side);
      const bool reset = reset_reached(wires, c, side, false);
      const bool injected_reset = reset_reached(wires, c, side, true);
      const std::string name(side_name(side));
      const char* how = active             ? "closed first"
                        : v.fin || passive ? "closed second"
                                           : "sent no FIN";
      sides.push_back(fmt::format("{} {}{}, {}{}", name, how, sent_rst ? " and sent RST" : "",
                                  entered ? "entered TIME_WAIT" : "no TIME_WAIT",
                                  injected_reset ? " (an injected RST reached it)" : ""));
      if (sent_rst) continue;  // it aborted: TIME_WAIT rules do not apply
      if (entered && !active) {
        bad.push_back(fmt::format("{}{} entered TIME_WAIT but {} ({})", prefix, name,
                                  v.fin || passive ? "closed second" : "never sent a FIN",
                                  state_path_text(states)));
      }
      if (!entered && active && !reset && v.peer_fin_arrival && v.fin_acked &&
          timewait_enabled(trace, side) && !timewait_destroyed(trace, side)) {
        bad.push_back(
            fmt::format("{}{} closed first and its close completed, but it never "
                        "reached TIME_WAIT ({}): TIME_WAIT skipped: overflow?",
                        prefix, name, state_path_text(states)));
      }
    }
    summary.push_back(prefix + sides[0] + "; " + sides[1]);
  }
  r.passed = bad.empty();
  r.saw = !bad.empty()      ? join_some(bad)
          : summary.empty() ? "no connection seen"
                            : join_some(summary);
  return r;
}

CheckResult check_bytes_delivered(const Trace& trace) {
  CheckResult r = builtin("bytes-delivered",
                          "each app reads every byte its peer's app wrote (unless a reset or an "
                          "error intervened)");
  std::uint64_t wrote[2] = {0, 0}, read[2] = {0, 0};
  std::vector<std::string> errors;
  for (const TraceEvent& ev : trace.events) {
    const auto* a = std::get_if<AppEvent>(&ev);
    if (!a) continue;
    const auto s = static_cast<std::size_t>(a->side);
    if (a->step.rfind("send", 0) == 0 && a->outcome == "ok") wrote[s] += a->bytes;
    if (a->step.rfind("recv", 0) == 0) read[s] += a->bytes;
    if (a->outcome != "ok" && a->outcome != "eof")
      errors.push_back(fmt::format("{} {}: {}", side_name(a->side), a->step, a->outcome));
  }
  const auto c = static_cast<std::size_t>(Side::client), s = static_cast<std::size_t>(Side::server);
  const std::string counts =
      fmt::format("client wrote {} bytes, server read {}; server wrote {}, client read {}",
                  wrote[c], read[s], wrote[s], read[c]);
  r.passed = true;
  const bool any_transfer = std::any_of(trace.events.begin(), trace.events.end(), [](const TraceEvent& ev) {
    const auto* a = std::get_if<AppEvent>(&ev);
    return a && (a->step.rfind("send", 0) == 0 || a->step.rfind("recv", 0) == 0);
  });
  if (!any_transfer) {
    // `lastack exec`: the user's programs move bytes lastack cannot count.
    r.saw = "not checked: no agent send or recv steps in the trace";
  } else if (any_reset(trace)) {
    r.saw = "not checked: an RST was on the wire (" + counts + ")";
  } else if (!errors.empty()) {
    r.saw = "not checked: " + join_some(errors) + " (" + counts + ")";
  } else {
    r.passed = wrote[c] == read[s] && wrote[s] == read[c];
    r.saw = counts;
  }
  return r;
}

CheckResult check_harness_queue_drops(const Trace& trace) {
  CheckResult r = builtin("harness-queue-drops",
                          "no segment lost by the kernel before it reached the interceptor");
  r.passed = trace.queue_drops == 0;
  r.saw = r.passed ? "0 queue drops"
                   : fmt::format(
                         "{} segments dropped at the NFQUEUE (queue overflow): the run "
                         "proves nothing about them",
                         trace.queue_drops);
  return r;
}

CheckResult check_harness_errors(const Trace& trace) {
  CheckResult r = builtin("harness-errors", "the lab saw the whole wire and gave every verdict it logged");
  const auto errors = harness_errors(trace);
  r.passed = errors.empty();
  r.saw = r.passed ? "no harness error"
                   : fmt::format("{}{}: the run proves nothing", errors.front()->what,
                                 errors.size() > 1 ? fmt::format(" (and {} more)", errors.size() - 1) : "");
  return r;
}

}  // namespace lastack
