#pragma once
// Which connections a run is about: the four-tuples its wire carried (a socket with none of them,
// a proxy's loopback backend, is not the policy's business) and the connections each fault hit.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "lastack/trace.hpp"

namespace lastack {

/// Each fault that acted on the wire (its index in Policy::faults) and the connections it acted
/// on, from the wire events it marked.
std::map<std::size_t, std::set<ConnectionIndex>> fault_connections(const Trace& trace);

/// "fault 1 hit connection 2", "fault 1 hit connections 1, 2, 3; fault 2 hit connection 3"
/// (numbered from 1); empty when no fault acted.
std::string fault_connections_text(const Trace& trace);

/// The four-tuples the wire carried, seen from each side, to tell the sockets a policy is about
/// from those it is not (a proxy's loopback backend in the server's namespace).
class WirePorts {
 public:
  /// Every (side, local port, remote port) of the trace's wire segments.
  explicit WirePorts(const Trace& trace);
  /// True when the trace has a wire and no segment on it has these ports from `side`'s view; a
  /// socket whose ports are not known (0), or a listener, is never off it.
  bool off_the_wire(Side side, std::uint16_t local_port, std::uint16_t remote_port) const;

 private:
  std::set<std::tuple<Side, std::uint16_t, std::uint16_t>> carried_;
};

}  // namespace lastack
