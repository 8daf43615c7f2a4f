#include "harness/core/trace/connection_scope.hpp"

#include <fmt/format.h>

#include "harness/core/trace/trace_query.hpp"

namespace lastack {

std::map<std::size_t, std::set<ConnectionIndex>> fault_connections(const Trace& trace) {
  std::map<std::size_t, std::set<ConnectionIndex>> out;
  for (const WireEvent* w : wire_events(trace))
    if (w->fault) out[*w->fault].insert(w->info.connection);
  return out;
}

std::string fault_connections_text(const Trace& trace) {
  std::string out;
  for (const auto& [fault, connections] : fault_connections(trace)) {
    std::string list;
    for (ConnectionIndex c : connections) list += fmt::format("{}{}", list.empty() ? "" : ", ", number_of(c).value);
    out += fmt::format("{}fault {} hit connection{} {}", out.empty() ? "" : "; ", fault + 1,
                       connections.size() == 1 ? "" : "s", list);
  }
  return out;
}

WirePorts::WirePorts(const Trace& trace) {
  for (const WireEvent* w : wire_events(trace)) {
    carried_.insert({w->info.from, w->segment.sport, w->segment.dport});
    carried_.insert({peer_of(w->info.from), w->segment.dport, w->segment.sport});
  }
}

bool WirePorts::off_the_wire(Side side, std::uint16_t local_port, std::uint16_t remote_port) const {
  return !carried_.empty() && local_port != 0 && remote_port != 0 && !carried_.count({side, local_port, remote_port});
}

}  // namespace lastack
