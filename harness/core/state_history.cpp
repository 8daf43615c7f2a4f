// State histories: the tracepoint's exact full-socket states, sock_diag's samples, and the
// timewait socket the wire proves, merged per socket in time order.
#include "harness/core/state_history.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "harness/core/trace_query.hpp"

namespace lastack {
namespace {

bool same_socket(const StateHistory& h, Side side, std::uint16_t local, std::uint16_t remote) {
  return h.side == side && h.local_port == local && h.remote_port == remote;
}

StateHistory& history_for(std::vector<StateHistory>& out, const Trace& trace, Side side,
                          std::uint16_t local, std::uint16_t remote,
                          std::optional<std::size_t> connection) {
  // Reused ports (a new incarnation on the same four-tuple) get a history of their own.
  const std::optional<std::size_t> conn = connection ? connection : connection_of_ports(trace, side, local, remote);
  auto it = std::find_if(out.begin(), out.end(), [&](const StateHistory& h) {
    return same_socket(h, side, local, remote) && (!h.connection || !conn || h.connection == conn);
  });
  if (it == out.end()) {
    StateHistory h;
    h.side = side;
    h.local_port = local;
    h.remote_port = remote;
    out.push_back(std::move(h));
    it = std::prev(out.end());
  }
  if (!it->connection) it->connection = conn;
  return *it;
}

void push(StateHistory& h, Instant at, TcpState s, StateSource source,
          std::optional<TcpState> from = std::nullopt) {
  if (s == TcpState::LISTEN) h.listener = true;
  if (!h.steps.empty() && h.steps.back().state == s) return;
  h.steps.push_back({at, s, source, from});
}

std::vector<StateHistory> sampled_histories(const Trace& trace) {
  std::vector<StateHistory> out;
  for (const TraceEvent& ev : trace.events) {
    const auto* e = std::get_if<SocketEvent>(&ev);
    if (!e) continue;
    auto& h = history_for(out, trace, e->side, e->local_port, e->remote_port, e->connection);
    push(h, e->at, e->state, StateSource::sampled);
  }
  return out;
}

// What ends a socket's life, gathered in one pass over the trace: kernel RSTs, and the wire's
// RSTs and FINs by connection (a run of many connections would otherwise scan the whole trace
// once per socket).
struct CloseEvidence {
  std::vector<const KernelReset*> kernel_resets;
  std::map<std::size_t, std::vector<const WireEvent*>> resets, fins;  // by connection, wire order
};

CloseEvidence close_evidence(const Trace& trace) {
  CloseEvidence out;
  for (const TraceEvent& ev : trace.events) {
    if (const auto* r = std::get_if<KernelReset>(&ev)) out.kernel_resets.push_back(r);
    if (const auto* w = std::get_if<WireEvent>(&ev); w && is_reset(*w, true)) out.resets[w->info.connection].push_back(w);
  }
  for (const WireEvent* w : wire_events(trace))
    if (w->segment.flags.fin()) out.fins[w->info.connection].push_back(w);
  return out;
}

const std::vector<const WireEvent*>& of_connection(const std::map<std::size_t, std::vector<const WireEvent*>>& by,
                                                   std::optional<std::size_t> connection) {
  static const std::vector<const WireEvent*> none;
  if (!connection) return none;
  const auto it = by.find(*connection);
  return it == by.end() ? none : it->second;
}

// The full socket closed after a reset: the kernel's RST sent or accepted, or a RST on the wire
// (an injected one too) that reached it.
bool reset_before(const CloseEvidence& evidence, const StateHistory& h, Instant at) {
  for (const KernelReset* r : evidence.kernel_resets) {
    const bool same = same_socket(h, r->side, r->local_port, r->remote_port) ||
                      (r->connection && h.connection && *r->connection == *h.connection && r->side == h.side);
    if (same && r->at <= at + std::chrono::milliseconds(1)) return true;
  }
  for (const WireEvent* w : of_connection(evidence.resets, h.connection))
    if (w->info.from != h.side && delivered(*w) && arrival_time(*w) <= at) return true;
  return false;
}

// When the peer's FIN first reached `h`'s side: the moment a timewait socket in FIN_WAIT_2
// enters TIME_WAIT.
std::optional<Instant> peer_fin_arrival(const CloseEvidence& evidence, const StateHistory& h) {
  std::optional<Instant> first;
  for (const WireEvent* w : of_connection(evidence.fins, h.connection)) {
    if (w->info.from == h.side || !delivered(*w)) continue;
    const Instant at = arrival_time(*w);
    if (!first || at < *first) first = at;
  }
  return first;
}

const std::optional<std::uint64_t>& overflow_of(const Trace& trace, Side side) {
  return side == Side::client ? trace.client_timewait_overflow : trace.server_timewait_overflow;
}

// A traced full socket went to CLOSE from a closing state: what the connection became.
void hand_over(const Trace& trace, const CloseEvidence& evidence, StateHistory& h, const StateChange& c) {
  if (reset_before(evidence, h, c.at)) return push(h, c.at, TcpState::CLOSE, StateSource::traced, c.from);
  const auto& overflow = overflow_of(trace, h.side);
  if (!overflow || *overflow != 0) {
    h.timewait_unknown =
        overflow ? fmt::format("{} TIME_WAIT overflow{} counted on the {}: the kernel may have "
                               "skipped TIME_WAIT",
                               *overflow, *overflow == 1 ? "" : "s", side_name(h.side))
                 : fmt::format("the {}'s TIME_WAIT overflow counter was not read",
                               side_name(h.side));
    return;
  }
  const auto fin = peer_fin_arrival(evidence, h);
  const bool fin_in = fin && *fin <= c.at;
  // Not yet: an orphan's FIN_WAIT_2 lives on as a timewait socket until the FIN (finish_timewait).
  push(h, c.at, fin_in ? TcpState::TIME_WAIT : TcpState::FIN_WAIT2, StateSource::inferred, c.from);
  if (!fin_in) h.orphan_fin_wait2 = c.at;
}

// An inferred timewait FIN_WAIT_2 enters TIME_WAIT when the peer's FIN arrives, unless it was
// gone (sampled CLOSE) or reset before.
void finish_timewait(const CloseEvidence& evidence, StateHistory& h) {
  if (!h.orphan_fin_wait2) return;
  const auto fin = peer_fin_arrival(evidence, h);
  if (!fin || *fin < *h.orphan_fin_wait2 || reset_before(evidence, h, *fin)) return;
  // Where the TIME_WAIT goes: after the last step before the FIN; not if the socket was gone.
  auto next = std::find_if(h.steps.begin(), h.steps.end(), [&](const StateStep& s) { return s.at > *fin; });
  const auto& before = *std::prev(next);
  if (before.state != TcpState::FIN_WAIT2) return;
  h.steps.insert(next, StateStep{*fin, TcpState::TIME_WAIT, StateSource::inferred, TcpState::FIN_WAIT2});
}

// The states a full socket hands over to a timewait socket from (tcp_time_wait). FIN_WAIT1 is
// not one: an ACK of the FIN moves it to FIN_WAIT2 first (traced), so FIN_WAIT1 -> CLOSE is the
// socket dying (orphan retries spent, tcp_write_err), not living on as a timewait socket.
bool closing(TcpState s) { return s == TcpState::FIN_WAIT2 || s == TcpState::CLOSING; }

std::vector<StateHistory> traced_histories(const Trace& trace) {
  const CloseEvidence evidence = close_evidence(trace);
  std::vector<StateHistory> out;
  std::vector<bool> traced;  // per history: a StateChange was seen (samples then only for timewait)
  std::vector<bool> handed;  // per history: the full socket is gone
  for (const TraceEvent& ev : trace.events) {
    if (const auto* c = std::get_if<StateChange>(&ev)) {
      auto& h = history_for(out, trace, c->side, c->local_port, c->remote_port, c->connection);
      const auto i = static_cast<std::size_t>(&h - out.data());
      traced.resize(out.size()), handed.resize(out.size());
      traced[i] = true;
      handed[i] = c->to == TcpState::CLOSE;
      if (c->to == TcpState::CLOSE && closing(c->from))
        hand_over(trace, evidence, h, *c);
      else
        push(h, c->at, c->to, StateSource::traced, c->from);
    } else if (const auto* e = std::get_if<SocketEvent>(&ev)) {
      auto& h = history_for(out, trace, e->side, e->local_port, e->remote_port, e->connection);
      const auto i = static_cast<std::size_t>(&h - out.data());
      traced.resize(out.size()), handed.resize(out.size());
      // A traced full socket's states are exact; sock_diag adds only what no tracepoint reports.
      const bool timewait = e->state == TcpState::TIME_WAIT || e->state == TcpState::FIN_WAIT2 ||
                            e->state == TcpState::CLOSE;
      if (!traced[i] || (handed[i] && timewait)) push(h, e->at, e->state, StateSource::sampled);
    }
  }
  for (StateHistory& h : out) finish_timewait(evidence, h);
  return out;
}

std::string_view source_note(StateSource s) {
  switch (s) {
    case StateSource::traced: return "";
    case StateSource::sampled: return "";
    case StateSource::inferred: return " (inferred)";
  }
  return "";
}

// Something could have ended a TIME_WAIT of these sockets' side before a sample saw it.
bool timewait_cut_short(const Trace& trace, const std::vector<StateHistory>& histories) {
  const CloseEvidence evidence = close_evidence(trace);
  std::set<std::optional<Side>> destroyed;  // sides whose TIME_WAIT a lab action destroyed (nullopt: any)
  for (const TraceEvent& ev : trace.events)
    if (const auto* l = std::get_if<LabEvent>(&ev); l && l->kind == LabEventKind::timewait_destroyed)
      destroyed.insert(l->side);
  for (const StateHistory& h : histories) {
    if (reset_before(evidence, h, Instant::max())) return true;
    if (destroyed.count(std::nullopt) || destroyed.count(h.side)) return true;
  }
  return false;
}

// A state this socket cannot have been in, given one it was seen in (neither leads to the
// other on one socket), or given the wire: TIME_WAIT needs its own FIN sent and the peer's
// delivered (SYN, FIN and RST segments are always on the wire).
// TIME_WAIT needs the side's own FIN sent before the peer's reached it (active or simultaneous
// close) and the peer's FIN delivered: a FIN whose ack covers the peer's FIN was sent from
// CLOSE_WAIT. SYN, FIN and RST segments are always on the wire.
bool timewait_impossible(const Trace& trace, Side side, std::size_t connection) {
  const WireEvent *own = nullptr, *peer = nullptr;
  bool peer_delivered = false;
  for (const WireEvent* w : wire_events(trace)) {
    if (w->info.connection != connection || !w->segment.flags.fin() || w->injected) continue;
    if (w->info.from == side && !own) own = w;
    if (w->info.from != side) {
      if (!peer) peer = w;
      peer_delivered = peer_delivered || delivered(*w);
    }
  }
  if (!own || !peer || !peer_delivered) return true;
  return own->segment.flags.ack() && own->segment.ack.after(peer->segment.seq + peer->segment.payload_len);
}

// A state this socket cannot have been in, given one it was seen in (neither leads to the
// other on one socket), or given the wire (TIME_WAIT).
bool ruled_out(const Trace& trace, const StateHistory& h, TcpState s) {
  for (const StateStep& x : h.steps) {
    if (x.state == TcpState::CLOSE || x.state == TcpState::LISTEN) continue;
    if (!legal_transition(x.state, s) && !legal_transition(s, x.state)) return true;
  }
  return s == TcpState::TIME_WAIT && h.connection && timewait_impossible(trace, h.side, *h.connection);
}

}  // namespace

bool StateHistory::reached(TcpState s) const {
  return std::any_of(steps.begin(), steps.end(), [s](const StateStep& x) { return x.state == s; });
}

std::vector<TcpState> StateHistory::states() const {
  std::vector<TcpState> out;
  for (const StateStep& s : steps) out.push_back(s.state);
  return out;
}

std::vector<StateHistory> state_histories(const Trace& trace) {
  return trace.kernel_source == KernelSource::traced ? traced_histories(trace)
                                                     : sampled_histories(trace);
}

std::string history_text(const StateHistory& h) {
  if (h.listener) return fmt::format("{} listener {}", side_name(h.side), h.local_port);
  return fmt::format("{} socket {}→{}", side_name(h.side), h.local_port, h.remote_port);
}

std::string steps_text(const StateHistory& h) {
  std::string out;
  for (const StateStep& s : h.steps) {
    if (!out.empty()) out += " → ";
    out += fmt::format("{}{}", state_name(s.state), source_note(s.source));
  }
  return out.empty() ? "no states observed" : out;
}

StateEvidence state_evidence(const Trace& trace, Side side, const std::vector<StateHistory>& histories,
                             TcpState s) {
  if (histories.empty()) {
    std::set<std::size_t> connections;
    for (const WireEvent* w : wire_events(trace)) connections.insert(w->info.connection);
    const bool impossible = s == TcpState::TIME_WAIT && !connections.empty() &&
                            std::all_of(connections.begin(), connections.end(),
                                        [&](std::size_t c) { return timewait_impossible(trace, side, c); });
    if (impossible) return {Evidence::not_seen, ""};
    return {Evidence::unknown, "no socket observed"};
  }
  for (const StateHistory& h : histories)
    if (h.reached(s)) return {Evidence::seen, ""};
  // What was seen can rule a state out: the diagram, or the wire (TIME_WAIT needs both FINs).
  if (std::all_of(histories.begin(), histories.end(),
                  [&](const StateHistory& h) { return ruled_out(trace, h, s); }))
    return {Evidence::not_seen, ""};
  if (trace.kernel_source == KernelSource::sampled) {
    // TIME_WAIT lasts 60 s unless a RST or SOCK_DESTROY ends it: sampling cannot miss it then.
    if (s == TcpState::TIME_WAIT && !timewait_cut_short(trace, histories)) return {Evidence::not_seen, ""};
    return {Evidence::unknown,
            fmt::format("{} was never sampled, and {}", state_name(s), sampling_note)};
  }
  if (s == TcpState::TIME_WAIT || s == TcpState::FIN_WAIT2) {
    for (const StateHistory& h : histories)
      if (!h.timewait_unknown.empty()) return {Evidence::unknown, h.timewait_unknown};
  }
  return {Evidence::not_seen, ""};
}

}  // namespace lastack
