#pragma once
// `lastack wrap` runs both ends of every connection in one namespace, so the namespace cannot
// say which side a socket is. The connection's SYN says it (its sender is the client), and the
// socket is named by its cookie, as the kernel names it: each cookie takes the side its first
// ports give against the SYNs on the wire, and keeps it (a TIME_WAIT socket keeps its cookie).
#include <cstdint>
#include <map>
#include <set>
#include <optional>
#include <utility>

#include "lastack/roles.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// Each connection's sides by its ports, from the SYNs on the wire: (local, remote) -> side.
class SidesBySyn {
 public:
  /// Learn from a segment the tracker classified: a SYN without ACK names its sender the
  /// client of (sport, dport) and its receiver the server of (dport, sport). The first SYN of a
  /// port pair stands (a simultaneous open: the tracker's client, whose SYN came first).
  void learn(const WireEvent& ev);
  /// The side of a socket with these ports; nullopt when no SYN on the wire named the pair. A
  /// listener (remote port 0) is the server's when a SYN was sent to its port.
  std::optional<Side> side_of(std::uint16_t local_port, std::uint16_t remote_port) const;

 private:
  std::map<std::pair<std::uint16_t, std::uint16_t>, Side> sides_;
  std::set<std::uint16_t> server_ports_;  // the ports SYNs were sent to
};

/// Give every kernel event (SocketEvent, StateChange, KernelRetransmit, KernelReset) its side:
/// per cookie, the side its first event's ports have in the wire's SYNs; an event without a
/// cookie (a reset no socket sent) by its own ports. An event that neither names (a listener, a
/// connection off the wire) keeps its side. Returns how many sockets (cookies) were named.
std::size_t assign_loopback_sides(Trace& trace);

}  // namespace lastack
