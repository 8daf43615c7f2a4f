#include "harness/core/retransmission_labels.hpp"

#include <map>
#include <tuple>
#include <vector>

namespace lastack {

void label_retransmissions(Trace& trace) {
  if (trace.kernel_source != KernelSource::traced) return;
  using Key = std::tuple<Side, std::size_t, std::uint32_t>;  // sender, connection, first sequence number
  std::map<Key, std::size_t> kernel;
  for (const TraceEvent& ev : trace.events)
    if (const auto* k = std::get_if<KernelRetransmit>(&ev);
        k && k->connection && (k->error == 0 || k->cause == RetransmitCause::synack))
      ++kernel[{k->side, *k->connection, k->seq.raw()}];
  std::map<Key, std::vector<WireEvent*>> sent;
  for (TraceEvent& ev : trace.events) {
    auto* w = std::get_if<WireEvent>(&ev);
    if (!w) continue;
    w->info.roles.remove(Role::retransmission);
    if (!w->injected && w->segment.seq_space() > 0)
      sent[{w->info.from, w->info.connection, w->segment.seq.raw()}].push_back(w);
  }
  // The kernel's N retransmissions of a sequence number are its last N transmissions of it: the
  // ones before are the original (a retransmission may start where no original did).
  for (auto& [key, list] : sent) {
    const auto it = kernel.find(key);
    const std::size_t n = it == kernel.end() ? 0 : std::min(it->second, list.size());
    for (std::size_t i = list.size() - n; i < list.size(); ++i) list[i]->info.roles.add(Role::retransmission);
  }
}

}  // namespace lastack
