// Trace queries: small scans over the ordered event log, shared by the oracle and the reports.
#include "harness/core/trace_query.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "harness/core/oracle.hpp"

namespace lastack {
namespace {

using PortKey = std::tuple<Side, std::uint16_t, std::uint16_t>;

// A socket's ports, seen from its own side, map to the connection of the segments it sends.
std::map<PortKey, std::size_t> connections_by_ports(const Trace& trace) {
  std::map<PortKey, std::size_t> ports;
  for (const WireEvent* w : wire_events(trace)) {
    ports.try_emplace({w->info.from, w->segment.sport, w->segment.dport}, w->info.connection);
    ports.try_emplace({peer_of(w->info.from), w->segment.dport, w->segment.sport},
                      w->info.connection);
  }
  return ports;
}

std::optional<std::size_t> lookup_connection(const std::map<PortKey, std::size_t>& ports,
                                             const SocketEvent& e) {
  if (e.connection) return e.connection;
  const auto it = ports.find({e.side, e.local_port, e.remote_port});
  if (it == ports.end()) return std::nullopt;
  return it->second;
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
    if (const auto* l = std::get_if<LabEvent>(&e); l && l->kind == LabEventKind::harness_error) out.push_back(l);
  return out;
}

bool delivered(const WireEvent& e) { return e.fate != Fate::dropped; }

bool reset_after(const Trace& trace, std::size_t connection, Instant at) {
  const auto wires = wire_events(trace);
  return std::any_of(wires.begin(), wires.end(), [&](const WireEvent* w) {
    return w->segment.flags.rst() && w->info.connection == connection && w->at >= at;
  });
}

bool any_reset(const Trace& trace) {
  const auto wires = wire_events(trace);
  return std::any_of(wires.begin(), wires.end(),
                     [](const WireEvent* w) { return w->segment.flags.rst(); });
}

bool sent_reset(const Trace& trace, std::size_t connection, Side side) {
  const auto wires = wire_events(trace);
  return std::any_of(wires.begin(), wires.end(), [&](const WireEvent* w) {
    return w->segment.flags.rst() && w->info.connection == connection && w->info.from == side;
  });
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
    auto it = std::find_if(out.begin(), out.end(), [e](const SocketHistory& h) {
      return h.side == e->side && h.local_port == e->local_port && h.remote_port == e->remote_port;
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

std::optional<std::size_t> socket_connection(const Trace& trace, const SocketEvent& e) {
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
  if (gaps.size() >= 2 && gaps[1] < gaps[0] + gap_tolerance(gaps[0])) return 1;
  return 0;
}

std::string_view retransmission_mechanism(const std::vector<Duration>& gaps,
                                          std::optional<std::chrono::microseconds> rto) {
  return leading_probes(gaps, rto) ? "tail-loss probe" : "RTO retransmission";
}

bool timewait_restarted(const SocketEvent& before, const SocketEvent& after) {
  const Duration elapsed = after.at - before.at;
  return after.expires > before.expires - elapsed + std::chrono::milliseconds(100);
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
                                                std::optional<std::size_t> connection, Instant at) {
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

std::optional<std::chrono::microseconds> rto_for(const Trace& trace, const WireEvent& original,
                                                 Instant until) {
  const Side side = original.info.from;
  const std::size_t connection = original.info.connection;
  const auto ports = connections_by_ports(trace);
  // A socket still in its handshake has the SYN's RTO, not the one its first RTT sample sets:
  // it says nothing about a later segment's (wire times are kernel times, so the first
  // established sample can come just after a segment sent right after the handshake).
  const bool handshake = original.segment.flags.syn();
  std::optional<std::chrono::microseconds> before;
  for (const TraceEvent& ev : trace.events) {
    const auto* e = std::get_if<SocketEvent>(&ev);
    if (!e || e->side != side || e->at > original.at || e->rto.count() <= 0) continue;
    if (!handshake && (e->state == TcpState::SYN_SENT || e->state == TcpState::SYN_RECV)) continue;
    const auto conn = lookup_connection(ports, *e);
    if (conn && *conn != connection) continue;
    before = e->rto;
  }
  if (before) return before;
  for (const TraceEvent& ev : trace.events) {
    const auto* e = std::get_if<SocketEvent>(&ev);
    if (!e || e->side != side || e->at < original.at || e->rto.count() <= 0) continue;
    if (!handshake && (e->state == TcpState::SYN_SENT || e->state == TcpState::SYN_RECV)) continue;
    if (e->at >= until) break;
    const auto conn = lookup_connection(ports, *e);
    if (!conn || *conn == connection) return e->rto;
  }
  return std::nullopt;
}

}  // namespace lastack
