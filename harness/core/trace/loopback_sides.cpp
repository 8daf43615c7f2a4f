// `lastack wrap`'s sides: each socket (cookie) on the side its connection's SYN gives its ports.
#include "harness/core/trace/loopback_sides.hpp"

#include <type_traits>
#include <unordered_map>
#include <variant>

namespace lastack {

void SidesBySyn::learn(const WireEvent& ev) {
  const Segment& s = ev.segment;
  if (ev.injected || !s.flags.syn() || s.flags.ack()) return;
  sides_.try_emplace({s.sport, s.dport}, ev.info.from);
  sides_.try_emplace({s.dport, s.sport}, peer_of(ev.info.from));
  server_ports_.insert(ev.info.from == Side::client ? s.dport : s.sport);
}

std::optional<Side> SidesBySyn::side_of(std::uint16_t local_port, std::uint16_t remote_port) const {
  if (remote_port == 0 && server_ports_.count(local_port)) return Side::server;
  const auto it = sides_.find({local_port, remote_port});
  if (it == sides_.end()) return std::nullopt;
  return it->second;
}

namespace {
// The kernel events that name a socket: everything but the wire, the agents and the lab.
template <typename E>
constexpr bool names_a_socket = std::is_same_v<E, SocketEvent> || std::is_same_v<E, StateChange> ||
                                std::is_same_v<E, KernelRetransmit> || std::is_same_v<E, KernelReset>;
}  // namespace

std::size_t assign_loopback_sides(Trace& trace) {
  SidesBySyn syns;
  for (const TraceEvent& e : trace.events)
    if (const auto* w = std::get_if<WireEvent>(&e)) syns.learn(*w);
  // A cookie's side is fixed by its first event that the SYNs name, in time order.
  std::unordered_map<SocketCookie, Side> by_cookie;
  for (const TraceEvent& e : trace.events)
    std::visit(
        [&](const auto& ev) {
          using E = std::decay_t<decltype(ev)>;
          if constexpr (names_a_socket<E>) {
            if (ev.cookie == 0 || by_cookie.count(ev.cookie)) return;
            if (const auto side = syns.side_of(ev.local_port, ev.remote_port)) by_cookie.emplace(ev.cookie, *side);
          }
        },
        e);
  for (TraceEvent& e : trace.events)
    std::visit(
        [&](auto& ev) {
          using E = std::decay_t<decltype(ev)>;
          if constexpr (names_a_socket<E>) {
            if (const auto it = by_cookie.find(ev.cookie); ev.cookie != 0 && it != by_cookie.end())
              ev.side = it->second;
            else if (const auto side = ev.cookie == 0 ? syns.side_of(ev.local_port, ev.remote_port) : std::nullopt)
              ev.side = *side;
          }
        },
        e);
  return by_cookie.size();
}

}  // namespace lastack
