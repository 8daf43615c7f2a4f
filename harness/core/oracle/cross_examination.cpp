#include "harness/core/oracle/cross_examination.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "harness/core/base/errno_name.hpp"
#include "harness/core/oracle/invariant_support.hpp"
#include "harness/core/oracle/words/sources_words.hpp"
#include "harness/core/trace/state_history.hpp"
#include "harness/core/trace/timewait_timer.hpp"
#include "harness/core/trace/trace_query.hpp"

namespace lastack {

namespace {

// What one side's kernel events and wire segments say, counted for the formulas.
struct SideFacts {
  std::size_t retransmits_left = 0;  // timer and fast retransmissions that left (error 0)
  std::size_t synacks = 0;           // a request socket's SYN-ACK retransmissions
  std::size_t resets_sent = 0;
  std::size_t crossed_synacks = 0;   // SYN_SENT -> SYN_RECV: a simultaneous open's SYN-ACK, counted nowhere
  std::size_t passive_opens = 0;     // LISTEN -> SYN_RECV
  std::size_t estab_resets = 0;      // ESTABLISHED or CLOSE_WAIT -> CLOSE
  std::optional<std::size_t> handovers = 0;  // closes from FIN_WAIT_2 or CLOSING with no error, no RST of their own
  std::size_t wire_out = 0;          // segments the side put on the wire (lastack's own left out)
  std::size_t wire_resets = 0;
  std::set<std::pair<ConnectionIndex, std::uint32_t>> wire_syns;  // (connection, seq) of its SYNs
};

bool closing(TcpState s) { return s == TcpState::FIN_WAIT2 || s == TcpState::CLOSING; }

// The closes that handed a full socket to tcp_time_wait: no error, and no RST of the socket's own
// since it entered the closing state. nullopt when a close did not record its facts.
std::optional<std::size_t> handovers_of(const Trace& trace, Side side) {
  std::map<SocketCookie, Instant> entered;
  std::size_t n = 0;
  for (const TraceEvent& ev : trace.events) {
    const auto* c = std::get_if<StateChange>(&ev);
    if (!c || c->side != side) continue;
    if (c->to == TcpState::CLOSE && closing(c->from)) {
      if (!c->facts || c->cookie == 0) return std::nullopt;
      const Instant since = entered[c->cookie];
      const bool own_reset = std::any_of(trace.events.begin(), trace.events.end(), [&](const TraceEvent& e) {
        const auto* r = std::get_if<KernelReset>(&e);
        return r && r->sent && r->side == side && r->cookie == c->cookie && !r->timewait_substate && r->at >= since;
      });
      if (c->facts->error == 0 && !own_reset) ++n;
    }
    entered[c->cookie] = c->at;
  }
  return n;
}

SideFacts facts_of(const Trace& trace, Side side) {
  SideFacts f;
  f.handovers = handovers_of(trace, side);
  for (const TraceEvent& ev : trace.events) {
    if (const auto* k = std::get_if<KernelRetransmit>(&ev); k && k->side == side) {
      if (k->cause == RetransmitCause::synack) ++f.synacks;
      else if (k->error == 0) f.retransmits_left += k->segments;  // Tcp.RetransSegs counts each segment
    } else if (const auto* r = std::get_if<KernelReset>(&ev); r && r->side == side && r->sent) {
      ++f.resets_sent;
    } else if (const auto* c = std::get_if<StateChange>(&ev); c && c->side == side) {
      if (c->from == TcpState::SYN_SENT && c->to == TcpState::SYN_RECV) ++f.crossed_synacks;
      if (c->from == TcpState::LISTEN && c->to == TcpState::SYN_RECV) ++f.passive_opens;
      if (c->to == TcpState::CLOSE && (c->from == TcpState::ESTABLISHED || c->from == TcpState::CLOSE_WAIT))
        ++f.estab_resets;
    } else if (const auto* w = std::get_if<WireEvent>(&ev); w && w->info.from == side && !w->injected) {
      ++f.wire_out;
      if (w->segment.flags.rst()) ++f.wire_resets;
      if (w->segment.flags.syn() && !w->segment.flags.ack()) f.wire_syns.insert({w->info.connection, w->segment.seq.raw()});
    }
  }
  return f;
}

// A counter's change, when the trace read it (absent: the kernel has none by that name).
std::optional<std::int64_t> counter(const Trace& trace, Side side, const std::string& name) {
  const auto& counters = trace.counters[side];
  if (!counters) return std::nullopt;
  const auto it = counters->find(name);
  if (it == counters->end()) return std::nullopt;
  return it->second;
}

std::optional<std::int64_t> sum(std::initializer_list<std::optional<std::int64_t>> parts) {
  std::int64_t total = 0;
  for (const auto& p : parts) {
    if (!p) return std::nullopt;
    total += *p;
  }
  return total;
}

// A socket of the run the wire never carried (a loopback connection in exec's server namespace):
// it moves the namespace's counters without a segment on the wire.
bool sockets_off_the_wire(const Trace& trace) {
  return std::any_of(trace.events.begin(), trace.events.end(), [](const TraceEvent& ev) {
    const auto* c = std::get_if<StateChange>(&ev);
    return c && !c->connection && c->from != TcpState::LISTEN && c->to != TcpState::LISTEN &&
           !(c->from == TcpState::CLOSE && c->to == TcpState::SYN_SENT && c->local_port == 0);
  });
}

// Whose count `seen` is: the kernel observer's (a counter above it means the observer missed
// events) or the wire's (the capture's).
enum class Seen : std::uint8_t { by_observer, on_wire };

void compare(std::vector<Disagreement>& out, Side side, std::string fact, std::optional<std::int64_t> counted,
             std::string counted_what, std::int64_t seen, std::string seen_what, Seen by = Seen::by_observer,
             std::int64_t slack = 0) {
  if (!counted || (*counted >= seen && *counted <= seen + slack)) return;
  out.push_back({side, std::move(fact),
                 fmt::format("{} {:+}; {}: {}{}", counted_what, *counted, seen_what, seen,
                             slack ? fmt::format(" (and up to {} after the run's end)", slack) : ""),
                 by == Seen::by_observer && *counted > seen});
}

// How many retransmissions the side's counters show beyond its kernel events (the observer's misses).
std::int64_t unreported_retransmits(const Trace& trace, Side side, const SideFacts& f) {
  const auto retrans = counter(trace, side, "Tcp.RetransSegs"), fails = counter(trace, side, "TcpExt.TCPRetransFail");
  if (!retrans || !fails) return 0;
  return std::max<std::int64_t>(0, *retrans - *fails - static_cast<std::int64_t>(f.retransmits_left + f.synacks));
}

double ms_at(Instant at) { return std::chrono::duration<double, std::milli>(at.time_since_epoch()).count(); }

// tcp_reset's errors: a close with one of them follows a reset the socket accepted (ECONNREFUSED
// is left out: an ICMP port unreachable closes a SYN_SENT socket with it too).
bool reset_error(int error) { return error == ECONNRESET || error == EPIPE; }

// Each traced socket's changes, chained: a missing link is a change the observer never reported.
void state_chains(const Trace& trace, std::vector<Disagreement>& out) {
  std::map<SocketCookie, TcpState> last;
  std::set<SocketCookie> reset_received;
  for (const TraceEvent& ev : trace.events) {
    if (const auto* r = std::get_if<KernelReset>(&ev); r && !r->sent && r->cookie != 0) reset_received.insert(r->cookie);
    const auto* c = std::get_if<StateChange>(&ev);
    if (!c || c->cookie == 0) continue;
    const auto before = last.find(c->cookie);
    const bool starts = c->from == TcpState::CLOSE || c->from == TcpState::LISTEN;
    if (before == last.end() ? !starts : before->second != c->from)
      out.push_back({c->side, "state changes",
                     fmt::format("socket {} ({}) changed {} → {} at {:.3f} ms, but its last reported change {}",
                                 c->cookie, c->local_port, state_name(c->from), state_name(c->to), ms_at(c->at),
                                 before == last.end() ? "was none" : fmt::format("ended in {}", state_name(before->second))),
                     true});
    if (c->to == TcpState::CLOSE && c->facts && reset_error(c->facts->error) && !reset_received.count(c->cookie))
      out.push_back({c->side, "received resets",
                     fmt::format("socket {} ({}) closed with {} at {:.3f} ms, but no reset it received was reported",
                                 c->cookie, c->local_port, errno_name(c->facts->error), ms_at(c->at)),
                     true});
    last[c->cookie] = c->to;
  }
}

// Each retransmission the kernel says left must be on the wire (its sequence number, from its side).
void retransmissions_on_wire(const Trace& trace, std::vector<Disagreement>& out) {
  using Key = std::tuple<Side, ConnectionIndex, std::uint32_t>;
  std::map<Key, std::size_t> kernel, wire;
  for (const TraceEvent& ev : trace.events) {
    if (const auto* k = std::get_if<KernelRetransmit>(&ev); k && k->connection && (k->error == 0 || k->cause == RetransmitCause::synack))
      ++kernel[{k->side, *k->connection, k->seq.raw()}];
    else if (const auto* w = std::get_if<WireEvent>(&ev); w && !w->injected)
      ++wire[{w->info.from, w->info.connection, w->segment.seq.raw()}];
  }
  for (const auto& [key, n] : kernel) {
    const auto& [side, connection, seq] = key;
    const std::size_t sent = wire.count(key) ? wire.at(key) : 0;
    const std::uint64_t late = trace.segments_after_end[side];
    if (n > sent + late)
      out.push_back({side, "retransmissions on the wire",
                     fmt::format("the kernel retransmitted seq {} of connection {} {} time{}; the wire shows {} "
                                 "segment{} from it at that seq",
                                 seq, number_of(connection).value, n, n == 1 ? "" : "s", sent, sent == 1 ? "" : "s")});
  }
}

// Each resend the wire shows (sequence space a side had sent before, at the same seq) must be a
// retransmission the kernel reported: a tracepoint the BPF program missed makes the resend look
// like a first transmission, and every timing built on it wrong.
void resends_reported(const Trace& trace, std::vector<Disagreement>& out) {
  std::vector<const KernelRetransmit*> reported;
  for (const TraceEvent& ev : trace.events)
    if (const auto* k = std::get_if<KernelRetransmit>(&ev); k && (k->error == 0 || k->cause == RetransmitCause::synack))
      reported.push_back(k);
  // The events that cover `w`: same side, its seq within the range they resent.
  const auto covering = [&](const WireEvent& w) {
    return static_cast<std::size_t>(std::count_if(reported.begin(), reported.end(), [&](const KernelRetransmit* k) {
      const std::int64_t offset = w.segment.seq - k->seq;
      return k->side == w.info.from && offset >= 0 && offset < std::max<std::int64_t>(k->length, 1);
    }));
  };
  // A segment's shape: a simultaneous open's SYN-ACK repeats its SYN's seq, and is no resend.
  const auto shape = [](const Segment& s) {
    return static_cast<std::uint8_t>(s.flags.syn() | (s.flags.syn() && s.flags.ack()) << 1 | s.flags.fin() << 2);
  };
  using Key = std::tuple<Side, ConnectionIndex, std::uint32_t, std::uint8_t>;
  std::map<Key, std::pair<const WireEvent*, std::size_t>> sent;  // its first copy, how many followed
  for (const WireEvent* w : wire_events(trace)) {
    if (!w->queued || w->injected || w->segment.seq_space() == 0) continue;
    // A SYN cookie's SYN-ACK answers each repeated SYN afresh: no request socket, no tracepoint.
    if (w->segment.flags.syn() && w->segment.flags.ack() && counter(trace, w->info.from, "TcpExt.SyncookiesSent").value_or(0) > 0)
      continue;
    const Key key{w->info.from, w->info.connection, w->segment.seq.raw(), shape(w->segment)};
    if (auto [it, first] = sent.try_emplace(key, w, 0); !first) ++it->second.second;
  }
  for (const auto& [key, copies] : sent) {
    const auto& [first, resends] = copies;
    const std::size_t covered = covering(*first);
    if (resends <= covered) continue;
    out.push_back({first->info.from, "retransmissions the kernel reported",
                   fmt::format("the wire shows seq {} of connection {} sent again {} time{}; the kernel reported {} "
                               "retransmission{} of it",
                               first->info.rel_seq, number_of(first->info.connection).value, resends,
                               resends == 1 ? "" : "s", covered, covered == 1 ? "" : "s"),
                   true});
  }
}

// A timewait socket's samples against the facts of its close, and its expiry against itself.
void timewait_facts(const Trace& trace, std::vector<Disagreement>& out) {
  const auto histories = state_histories(trace);
  for (const StateHistory& h : histories)
    if (!h.conflict.empty()) out.push_back({h.side, "the timewait socket", history_text(h) + ": " + h.conflict});
  for (const TimewaitTimer& t : timewait_timers(trace, histories))
    if (!t.contradiction.empty())
      out.push_back({t.socket->side, "the TIME_WAIT timer", history_text(*t.socket) + ": " + t.contradiction});
}

}  // namespace

std::vector<Disagreement> disagreements(const Trace& trace) {
  std::vector<Disagreement> out;
  if (trace.kernel_source != KernelSource::traced) return out;
  const bool wire = trace.whole_wire && !sockets_off_the_wire(trace);
  for (const Side side : {Side::client, Side::server}) {
    const SideFacts f = facts_of(trace, side);
    const auto retrans = counter(trace, side, "Tcp.RetransSegs");
    const auto late = static_cast<std::int64_t>(trace.segments_after_end[side]);
    const auto fails = counter(trace, side, "TcpExt.TCPRetransFail");
    compare(out, side, "retransmissions", sum({retrans, fails ? std::optional<std::int64_t>(-*fails) : std::nullopt}),
            "Tcp.RetransSegs - TcpExt.TCPRetransFail", static_cast<std::int64_t>(f.retransmits_left + f.synacks),
            "the kernel's retransmission events that left (SYN-ACKs included)");
    compare(out, side, "resets", counter(trace, side, "Tcp.OutRsts"), "Tcp.OutRsts",
            static_cast<std::int64_t>(f.resets_sent), "the kernel's sent-reset events");
    compare(out, side, "passive opens", counter(trace, side, "Tcp.PassiveOpens"), "Tcp.PassiveOpens",
            static_cast<std::int64_t>(f.passive_opens), "LISTEN → SYN_RECV changes");
    compare(out, side, "connection resets", counter(trace, side, "Tcp.EstabResets"), "Tcp.EstabResets",
            static_cast<std::int64_t>(f.estab_resets), "ESTABLISHED or CLOSE_WAIT → CLOSE changes");
    if (f.handovers)
      compare(out, side, "timewait sockets",
              sum({counter(trace, side, "TcpExt.TW"), counter(trace, side, "TcpExt.TWKilled"),
                   counter(trace, side, "TcpExt.TCPTimeWaitOverflow")}),
              "TcpExt.TW + TWKilled + TCPTimeWaitOverflow", static_cast<std::int64_t>(*f.handovers),
              "closes handed over to tcp_time_wait (no error, no RST of their own)");
    if (!wire) continue;
    compare(out, side, "resets on the wire", counter(trace, side, "Tcp.OutRsts"), "Tcp.OutRsts",
            static_cast<std::int64_t>(f.wire_resets), "RSTs it put on the wire", Seen::on_wire, late);
    compare(out, side, "active opens", counter(trace, side, "Tcp.ActiveOpens"), "Tcp.ActiveOpens",
            static_cast<std::int64_t>(f.wire_syns.size()), "SYNs it put on the wire", Seen::on_wire, late);
    const auto synack_retransmits = static_cast<std::int64_t>(f.synacks), crossed = static_cast<std::int64_t>(f.crossed_synacks);
    const std::size_t before = out.size();
    const auto segments = sum({counter(trace, side, "Tcp.OutSegs"), retrans, -synack_retransmits, crossed});
    compare(out, side, "segments", segments, "Tcp.OutSegs + Tcp.RetransSegs - SYN-ACK retransmissions + crossed SYN-ACKs",
            static_cast<std::int64_t>(f.wire_out), "segments it put on the wire", Seen::on_wire, late);
    // The formula subtracts the SYN-ACK retransmissions the observer reported: a missed one
    // overstates the count by one, without the wire being short.
    if (out.size() > before && unreported_retransmits(trace, side, f) >= *segments - static_cast<std::int64_t>(f.wire_out))
      out.back().observer_missed = true;
  }
  state_chains(trace, out);
  retransmissions_on_wire(trace, out);
  resends_reported(trace, out);
  timewait_facts(trace, out);
  return out;
}

CheckResult check_sources_agree(const Trace& trace) {
  Finding f = detail::builtin(CheckKind::sources_agree);
  SourcesSeen seen{trace.kernel_source == KernelSource::traced, trace.counters.client || trace.counters.server, {}};
  Outcome outcome = Outcome::not_applicable;
  if (seen.traced) {  // without counters, what the events say against the wire and themselves
    seen.disagree = disagreements(trace);
    outcome = outcome_of(seen.disagree.empty());
  }
  f.saw = std::move(seen);
  CheckResult r = detail::judged_builtin(std::move(f), outcome);
  r.harness = HarnessCause::sources_disagree;
  return r;
}

std::vector<std::string> observer_misses_only(const Trace& trace) {
  std::vector<std::string> misses;
  if (trace.queue_drops > 0) return {};
  for (const LabEvent* e : harness_errors(trace)) {
    if (e->kind != LabEventKind::observer_missed) return {};
    misses.push_back(e->what);
  }
  for (const Disagreement& d : disagreements(trace)) {
    if (!d.observer_missed) return {};
    misses.push_back(disagreement_text(d));
  }
  return misses;
}

}  // namespace lastack
