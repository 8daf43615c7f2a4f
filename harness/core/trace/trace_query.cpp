// Trace queries: small scans over the ordered event log, shared by the oracle and the reports.
#include "harness/core/trace/trace_query.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <type_traits>
#include <variant>

#include <fmt/format.h>


namespace lastack {
namespace {

using PortKey = std::tuple<Side, std::uint16_t, std::uint16_t>;

// One incarnation of a socket's ports on the wire: when its first segment was seen.
struct Incarnation {
  Instant first{};
  ConnectionIndex connection;
};
using PortIndex = std::map<PortKey, std::vector<Incarnation>>;

// A socket's ports, seen from its own side, map to the connections of the segments it sends, in
// order of appearance (more than one when the same ports are used again).
PortIndex connections_by_ports(const Trace& trace) {
  PortIndex ports;
  const auto add = [&ports](PortKey key, const WireEvent& w) {
    auto& list = ports[key];
    if (std::none_of(list.begin(), list.end(), [&](const Incarnation& i) { return i.connection == w.info.connection; }))
      list.push_back({w.at, w.info.connection});
  };
  for (const WireEvent* w : wire_events(trace)) {
    add({w->info.from, w->segment.sport, w->segment.dport}, *w);
    add({peer_of(w->info.from), w->segment.dport, w->segment.sport}, *w);
  }
  return ports;
}

// Which incarnation of reused ports an event at `at` belongs to: a socket entering SYN_SENT
// (`opening`) precedes its own SYN, so the first incarnation seen at or after it; anything else
// the latest one already on the wire. Before any: the first.
ConnectionIndex pick_incarnation(const std::vector<Incarnation>& list, Instant at, bool opening) {
  if (opening)
    for (const Incarnation& i : list)
      if (i.first >= at) return i.connection;
  ConnectionIndex chosen = list.front().connection;
  for (const Incarnation& i : list)
    if (i.first <= at) chosen = i.connection;
  return chosen;
}

std::optional<ConnectionIndex> lookup_connection(const PortIndex& ports, const SocketEvent& e) {
  if (e.connection) return e.connection;
  const auto it = ports.find({e.side, e.local_port, e.remote_port});
  if (it == ports.end()) return std::nullopt;
  return pick_incarnation(it->second, e.at, false);
}

}  // namespace

TransmissionKey transmission_key(const WireEvent& e) {
  return {e.info.connection, e.info.from, e.segment.seq.raw()};
}

std::vector<const WireEvent*> wire_events(const Trace& trace) {
  std::vector<const WireEvent*> out;
  for (const TraceEvent& e : trace.events) {
    if (const auto* w = std::get_if<WireEvent>(&e)) out.push_back(w);
  }
  return out;
}

bool several_connections(const std::vector<const WireEvent*>& wires) {
  return std::any_of(wires.begin(), wires.end(), [](const WireEvent* w) { return w->info.connection.value > 0; });
}

bool resends(const WireEvent& later, const WireEvent& original) {
  if (later.info.connection != original.info.connection || later.info.from != original.info.from)
    return false;
  const SeqNum start = original.segment.seq;
  if (later.segment.seq == start) return true;
  return start.at_or_after(later.segment.seq) && start.before(later.segment.seq_end());
}

bool kernel_retransmission(const WireEvent& w) {
  return w.info.roles.has(Role::retransmission) && !w.injected;
}

std::vector<const WireEvent*> retransmissions_of(const Trace& trace, const WireEvent& original) {
  std::vector<const WireEvent*> out;
  bool after_original = false;
  for (const WireEvent* w : wire_events(trace)) {
    if (w == &original) {
      after_original = true;
      continue;
    }
    if (after_original && kernel_retransmission(*w) && resends(*w, original))
      out.push_back(w);
  }
  return out;
}

Instant arrival_time(const WireEvent& e) { return e.delivered_at.value_or(e.released.value_or(e.at)); }

std::vector<const LabEvent*> harness_errors(const Trace& trace) {
  std::vector<const LabEvent*> out;
  for (const TraceEvent& e : trace.events)
    if (const auto* l = std::get_if<LabEvent>(&e); l && (l->kind == LabEventKind::harness_error || l->kind == LabEventKind::observer_missed))
      out.push_back(l);
  return out;
}

bool delivered(const WireEvent& e) { return e.fate != Fate::dropped; }

bool is_reset(const WireEvent& w, bool count_injected) {
  return w.segment.flags.rst() && (count_injected || !w.injected);
}

bool reset_after(const Trace& trace, ConnectionIndex connection, Instant at) {
  const auto wires = wire_events(trace);
  return std::any_of(wires.begin(), wires.end(), [&](const WireEvent* w) {
    return is_reset(*w, true) && w->info.connection == connection && w->at >= at;
  });
}

bool any_reset(const Trace& trace) {
  const auto wires = wire_events(trace);
  return std::any_of(wires.begin(), wires.end(), [](const WireEvent* w) { return is_reset(*w, true); });
}

bool sent_reset(const Trace& trace, ConnectionIndex connection, Side side) {
  const auto wires = wire_events(trace);
  return std::any_of(wires.begin(), wires.end(), [&](const WireEvent* w) {
    return is_reset(*w) && w->info.connection == connection && w->info.from == side;
  });
}

std::optional<ConnectionIndex> connection_of_ports(const Trace& trace, Side side,
                                                   std::uint16_t local_port, std::uint16_t remote_port) {
  const auto ports = connections_by_ports(trace);
  const auto it = ports.find({side, local_port, remote_port});
  if (it == ports.end()) return std::nullopt;
  return it->second.front().connection;
}

namespace {

// The connection a kernel event of these ports belongs to, by when it happened.
template <typename T>
std::optional<ConnectionIndex> place_by_ports(const PortIndex& ports, const T& e) {
  const auto it = ports.find({e.side, e.local_port, e.remote_port});
  if (it == ports.end()) return std::nullopt;
  bool opening = false;
  if constexpr (std::is_same_v<T, StateChange>) opening = e.to == TcpState::SYN_SENT;
  return pick_incarnation(it->second, e.at, opening);
}

// Each connection's SYNs by sender, ports and sequence number: a socket's ISN names its connection.
using IsnKey = std::tuple<Side, std::uint16_t, std::uint16_t, std::uint32_t>;
std::map<IsnKey, ConnectionIndex> connections_by_isn(const Trace& trace) {
  std::map<IsnKey, ConnectionIndex> out;
  for (const WireEvent* w : wire_events(trace))
    if (w->segment.flags.syn() && !w->injected)
      out.try_emplace({w->info.from, w->segment.sport, w->segment.dport, w->segment.seq.raw()}, w->info.connection);
  return out;
}

// The connection whose SYNs carry the socket's sequence numbers as a state change recorded them:
// the peer's ISN (rcv_nxt - 1) or its own (snd_una, or snd_una - 1 once the SYN was acknowledged).
std::optional<ConnectionIndex> place_by_isn(const std::map<IsnKey, ConnectionIndex>& isns, const StateChange& c) {
  if (!c.facts || c.local_port == 0) return std::nullopt;
  const auto find = [&](IsnKey key) -> std::optional<ConnectionIndex> {
    const auto it = isns.find(key);
    return it == isns.end() ? std::nullopt : std::optional(it->second);
  };
  if (c.facts->rcv_nxt != 0)
    if (auto found = find({peer_of(c.side), c.remote_port, c.local_port, c.facts->rcv_nxt - 1})) return found;
  if (c.facts->snd_una == 0) return std::nullopt;
  if (auto found = find({c.side, c.local_port, c.remote_port, c.facts->snd_una})) return found;
  return find({c.side, c.local_port, c.remote_port, c.facts->snd_una - 1});
}

}  // namespace

void attribute_connections(Trace& trace) {
  const auto ports = connections_by_ports(trace);
  const auto isns = connections_by_isn(trace);
  // A socket (the kernel's cookie) belongs to one connection all its life, its timewait socket
  // too: placed once, by its first event with ports (a SYN_SENT change before its own SYN).
  std::map<std::pair<Side, SocketCookie>, ConnectionIndex> by_cookie;
  const auto kernel_events = [&](auto&& fn) {
    for (TraceEvent& ev : trace.events)
      std::visit([&](auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (requires { e.local_port, e.remote_port, e.connection, e.side, e.cookie; })
          if constexpr (!std::is_same_v<T, WireEvent>) fn(e);
      }, ev);
  };
  // First by the kernel's own sequence numbers (no clock involved), then by ports and time.
  for (const TraceEvent& ev : trace.events)
    if (const auto* c = std::get_if<StateChange>(&ev); c && c->cookie != 0 && !by_cookie.count({c->side, c->cookie}))
      if (const auto found = place_by_isn(isns, *c)) by_cookie[{c->side, c->cookie}] = *found;
  kernel_events([&](auto& e) {
    if (e.cookie == 0 || e.local_port == 0 || by_cookie.count({e.side, e.cookie})) return;
    const auto c = e.connection ? e.connection : place_by_ports(ports, e);
    if (c) by_cookie[{e.side, e.cookie}] = *c;
  });
  kernel_events([&](auto& e) {
    if (e.connection) return;
    if (const auto it = by_cookie.find({e.side, e.cookie}); e.cookie != 0 && it != by_cookie.end())
      e.connection = it->second;
    else if (e.cookie == 0)
      e.connection = place_by_ports(ports, e);
  });
  // What was still pending on a socket at the end belongs to that socket's connection.
  for (PendingEvidence& p : trace.pending_at_end) {
    if (p.connection || !p.side) continue;
    if (const auto it = by_cookie.find({*p.side, p.cookie}); p.cookie != 0 && it != by_cookie.end())
      p.connection = it->second;
    else if (const auto list = ports.find({*p.side, p.local_port, p.remote_port}); list != ports.end())
      p.connection = list->second.back().connection;
  }
}

namespace {
/// How long `e` spent crossing the wire by the path's own doing (the [link]), a fault's hold or
/// delay left out: from entering (or its release by the fault) to leaving toward its receiver.
Duration crossing_time(const WireEvent& e) {
  const bool fault_waited = e.fate == Fate::delayed || e.fate == Fate::held;
  const Instant start = fault_waited && e.released ? *e.released : e.at;
  return std::max(Duration::zero(), arrival_time(e) - start);
}
}  // namespace

std::optional<Duration> measured_rtt(const Trace& trace) {
  // Each end's round trip through the wire: its segment crossing, the peer's turnaround, the
  // answer crossing back; the client's from its SYN, the server's from its SYN-ACK.
  std::optional<Duration> client_rtt, server_rtt;
  const auto wires = wire_events(trace);
  const auto shortest = [](std::optional<Duration>& best, Duration d) {
    if (!best || d < *best) best = d;
  };
  for (std::size_t i = 0; i < wires.size(); ++i) {
    const WireEvent& a = *wires[i];
    if (!a.segment.flags.syn() || !delivered(a) || a.injected) continue;
    const bool syn_ack = a.segment.flags.ack();
    for (std::size_t j = i + 1; j < wires.size(); ++j) {
      const WireEvent& b = *wires[j];
      if (b.info.connection != a.info.connection || b.info.from == a.info.from || b.injected) continue;
      if (b.at < arrival_time(a)) continue;  // sent before `a` (held or delayed) reached it
      // The answer to this very segment: a SYN-ACK to the SYN, the client's ACK to the SYN-ACK.
      const bool answers = syn_ack ? !b.segment.flags.syn() && b.segment.flags.ack()
                                   : b.segment.flags.syn() && b.segment.flags.ack();
      if (!answers) continue;
      if (delivered(b))
        shortest(syn_ack ? server_rtt : client_rtt, crossing_time(a) + (b.at - arrival_time(a)) + crossing_time(b));
      break;
    }
  }
  std::optional<Duration> rtt = client_rtt;
  if (server_rtt && (!rtt || *server_rtt > *rtt)) rtt = server_rtt;
  // The kernel's own smoothed RTT (tcpi_rtt) as sampled: under a loaded link it grows with the
  // queue, which a handshake on an idle wire never shows.
  for (const TraceEvent& e : trace.events)
    if (const auto* s = std::get_if<SocketEvent>(&e); s && s->rtt.count() > 0 && (!rtt || Duration(s->rtt) > *rtt))
      rtt = Duration(s->rtt);
  return rtt;
}

std::vector<TcpState> SocketHistory::states() const {
  std::vector<TcpState> out;
  for (const SocketEvent* e : events) {
    if (out.empty() || out.back() != e->state) out.push_back(e->state);
  }
  return out;
}

bool SocketHistory::reached(TcpState s) const {
  return std::any_of(events.begin(), events.end(),
                     [s](const SocketEvent* e) { return e->state == s; });
}

std::vector<SocketHistory> socket_histories(const Trace& trace) {
  const auto ports = connections_by_ports(trace);
  std::vector<SocketHistory> out;
  for (const TraceEvent& ev : trace.events) {
    const auto* e = std::get_if<SocketEvent>(&ev);
    if (!e) continue;
    // One socket as the kernel names it (a reused four-tuple is another); older traces: by ports.
    auto it = std::find_if(out.begin(), out.end(), [e](const SocketHistory& h) {
      if (h.side != e->side) return false;
      if (e->cookie != 0) return h.events.front()->cookie == e->cookie;
      return h.local_port == e->local_port && h.remote_port == e->remote_port;
    });
    if (it == out.end()) {
      out.push_back(
          {e->side, e->local_port, e->remote_port, lookup_connection(ports, *e), false, {}});
      it = std::prev(out.end());
    }
    if (!it->connection) it->connection = lookup_connection(ports, *e);
    it->listener = it->listener || e->state == TcpState::LISTEN;
    it->events.push_back(e);
  }
  return out;
}

std::string socket_text(const SocketHistory& h) {
  if (h.listener) return fmt::format("{} listener {}", side_name(h.side), h.local_port);
  return fmt::format("{} socket {}→{}", side_name(h.side), h.local_port, h.remote_port);
}

std::optional<ConnectionIndex> socket_connection(const Trace& trace, const SocketEvent& e) {
  if (e.connection) return e.connection;
  return lookup_connection(connections_by_ports(trace), e);
}

std::string segment_text(const WireEvent& e) {
  std::string out = fmt::format("{} seq {}", e.segment.flags.tcpdump(), e.info.rel_seq);
  if (e.segment.payload_len > 0) out += fmt::format(" len {}", e.segment.payload_len);
  return out + fmt::format(" from {}", side_name(e.info.from));
}

std::size_t leading_probes(const std::vector<Duration>& gaps,
                           std::optional<std::chrono::microseconds> rto) {
  if (gaps.empty()) return 0;
  const Duration reference = rto ? Duration(*rto) : Duration(tcp_rto_min);
  if (gaps.front() * 2 < reference) return 1;
  // A timer retransmission doubles the next wait; a probe leaves it at one RTO.
  // (A probe fires within one RTO: a first gap well beyond it was the timer.)
  if (gaps.size() >= 2 && gaps[1] < gaps[0] + gaps[0] / 2 && (!rto || gaps[0] <= Duration(*rto) * 5 / 4))
    return 1;
  return 0;
}

std::string_view retransmission_mechanism(const std::vector<Duration>& gaps,
                                          std::optional<std::chrono::microseconds> rto) {
  return leading_probes(gaps, rto) ? "tail-loss probe" : "RTO retransmission";
}

std::string state_path_text(const std::vector<TcpState>& states) {
  std::string out;
  for (TcpState s : states) {
    if (!out.empty()) out += " → ";
    out += state_name(s);
  }
  return out.empty() ? "no samples" : out;
}

std::optional<std::chrono::microseconds> rto_at(const Trace& trace, Side side,
                                                std::optional<ConnectionIndex> connection, Instant at) {
  const auto ports = connections_by_ports(trace);
  std::optional<std::chrono::microseconds> rto;
  for (const TraceEvent& ev : trace.events) {
    const auto* e = std::get_if<SocketEvent>(&ev);
    if (!e || e->side != side || e->at > at || e->rto.count() <= 0) continue;
    const auto conn = lookup_connection(ports, *e);
    if (connection && conn && *conn != *connection) continue;
    rto = e->rto;
  }
  return rto;
}

namespace {

// A sample from before the handshake completed holds the initial RTO (1 s), not the one the
// handshake's round trip set: it says nothing about a later segment.
bool rto_usable_for(const WireEvent& original, const SocketEvent& e) {
  return original.segment.flags.syn() ||
         (e.state != TcpState::SYN_SENT && e.state != TcpState::SYN_RECV && e.state != TcpState::NEW_SYN_RECV);
}

}  // namespace

std::optional<std::chrono::microseconds> rto_sampled_between(const Trace& trace, const WireEvent& original,
                                                             Instant from, std::optional<Instant> until,
                                                             SamplePick pick) {
  const auto ports = connections_by_ports(trace);
  std::optional<std::chrono::microseconds> found;
  for (const TraceEvent& ev : trace.events) {
    const auto* e = std::get_if<SocketEvent>(&ev);
    if (!e || e->side != original.info.from || e->at < from || e->rto.count() <= 0 || !rto_usable_for(original, *e))
      continue;
    if (until && e->at >= *until) break;
    const auto conn = lookup_connection(ports, *e);
    if (conn && *conn != original.info.connection) continue;
    // A sample's read may land after the timer fired although stamped before: its backoff shows.
    if (pick == SamplePick::latest_unfired && e->retransmits > 0) continue;
    found = e->rto;
    if (pick == SamplePick::first) break;
  }
  return found;
}

std::optional<std::chrono::microseconds> rto_for(const Trace& trace, const WireEvent& original,
                                                 std::optional<Instant> until) {
  const Side side = original.info.from;
  const ConnectionIndex connection = original.info.connection;
  const auto usable = [&](const SocketEvent& e) { return rto_usable_for(original, e); };
  const auto ports = connections_by_ports(trace);
  std::optional<std::chrono::microseconds> before;
  for (const TraceEvent& ev : trace.events) {
    const auto* e = std::get_if<SocketEvent>(&ev);
    if (!e || e->side != side || e->at > original.at || e->rto.count() <= 0 || !usable(*e)) continue;
    const auto conn = lookup_connection(ports, *e);
    if (conn && *conn != connection) continue;
    before = e->rto;
  }
  if (before) return before;
  return rto_sampled_between(trace, original, original.at, until, SamplePick::first);
}

const KernelRetransmit* kernel_retransmit_for(const Trace& trace, const WireEvent& w) {
  const KernelRetransmit* best = nullptr;
  for (const TraceEvent& ev : trace.events) {
    const auto* k = std::get_if<KernelRetransmit>(&ev);
    if (!k || k->side != w.info.from || k->seq != w.segment.seq) continue;
    if (k->connection && *k->connection != w.info.connection) continue;
    if (k->at > w.at + std::chrono::milliseconds(1)) continue;
    if (!best || k->at > best->at) best = k;
  }
  return best;
}

Duration timer_lateness(const Trace& trace, const WireEvent& w) {
  const KernelRetransmit* k = kernel_retransmit_for(trace, w);
  return k && k->timer_late ? Duration(*k->timer_late) : Duration{};
}

std::optional<Instant> timer_armed_at(const Trace& trace, const WireEvent& w) {
  const KernelRetransmit* k = kernel_retransmit_for(trace, w);
  if (!k || !k->timer_late) return std::nullopt;
  if (k->cause == RetransmitCause::rto) return k->at - *k->timer_late - k->rto;  // icsk_rto: what it was armed with
  if (k->cause != RetransmitCause::synack) return std::nullopt;
  // A request's timer runs its base timeout doubled per timeout so far, up to TCP_RTO_MAX.
  const Duration armed_for = std::min<Duration>(Duration(k->rto) * (std::int64_t{1} << std::min<int>(k->backoff, 20)),
                                                std::chrono::seconds(120));
  return k->at - *k->timer_late - armed_for;
}

ProbeCount leading_probe_count(const Trace& trace, const std::vector<const WireEvent*>& again,
                               const std::vector<Duration>& gaps,
                               std::optional<std::chrono::microseconds> rto) {
  std::vector<const KernelRetransmit*> accounts;
  for (const WireEvent* w : again) accounts.push_back(kernel_retransmit_for(trace, *w));
  const bool exact = !accounts.empty() &&
                     std::all_of(accounts.begin(), accounts.end(), [](auto* k) { return k != nullptr; });
  if (!exact) return {leading_probes(gaps, rto), true};
  ProbeCount p{0, false};
  while (p.count < accounts.size() && accounts[p.count]->cause == RetransmitCause::loss_probe) ++p.count;
  return p;
}

// "no TCP counter changed beyond routine traffic": tcp_counter_text leaves the routine ones out.
std::vector<std::string> kernel_counter_lines(const Trace& trace) {
  std::vector<std::string> out;
  if (!trace.counters.client && !trace.counters.server) return out;  // an older trace: say nothing
  for (const Side side : {Side::client, Side::server}) {
    const auto& counters = trace.counters[side];
    const std::string changed = counters ? tcp_counter_text(*counters) : "";
    out.push_back(fmt::format("{} kernel counters: {}", side_name(side),
                              !counters          ? "not read"
                              : changed.empty() ? "no TCP counter changed beyond routine traffic"
                                                : changed));
  }
  return out;
}

}  // namespace lastack
