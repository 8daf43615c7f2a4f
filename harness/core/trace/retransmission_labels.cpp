#include "harness/core/trace/retransmission_labels.hpp"

#include <map>

#include <fmt/format.h>
#include <tuple>
#include <vector>

namespace lastack {

namespace {

// What a side's counters say it retransmitted (SYN-ACKs included); nullopt: not read.
std::optional<std::int64_t> counted_retransmissions(const Trace& trace, Side side) {
  const auto& counters = trace.counters[side];
  if (!counters) return std::nullopt;
  const auto it = counters->find("Tcp.RetransSegs");
  if (it == counters->end()) return std::nullopt;
  return it->second;
}

}  // namespace

bool none_counted(const Trace& trace, Side side) {
  const auto counted = counted_retransmissions(trace, side);
  return counted && *counted == 0;
}

std::optional<std::string> retransmissions_unnamed(const Trace& trace, Side side) {
  if (trace.kernel_source == KernelSource::traced) return std::nullopt;
  const auto counted = counted_retransmissions(trace, side);
  if (counted && *counted == 0) return std::nullopt;
  return counted ? fmt::format("states sampled: the {}'s kernel counted {} retransmission{} (Tcp.RetransSegs) but "
                               "only a tracer (root) names the segments; the wire's labels are an inference",
                               side_name(side), *counted, *counted == 1 ? "" : "s")
                 : fmt::format("states sampled and the {}'s counters unread: only the wire's inference names its "
                               "retransmissions",
                               side_name(side));
}

void label_retransmissions(Trace& trace) {
  if (trace.kernel_source != KernelSource::traced) {
    for (TraceEvent& ev : trace.events)
      if (auto* w = std::get_if<WireEvent>(&ev); w && none_counted(trace, w->info.from))
        w->info.roles.remove(Role::retransmission);
    return;
  }
  using Key = std::tuple<Side, ConnectionIndex, std::uint32_t>;  // sender, connection, first sequence number
  std::map<Key, std::vector<WireEvent*>> sent;
  for (TraceEvent& ev : trace.events) {
    auto* w = std::get_if<WireEvent>(&ev);
    if (!w) continue;
    w->info.roles.remove(Role::retransmission);
    if (!w->injected && w->segment.seq_space() > 0)
      sent[{w->info.from, w->info.connection, w->segment.seq.raw()}].push_back(w);
  }
  std::map<Key, std::size_t> kernel;
  for (const TraceEvent& ev : trace.events) {
    const auto* k = std::get_if<KernelRetransmit>(&ev);
    if (!k || !k->connection || (k->error != 0 && k->cause != RetransmitCause::synack)) continue;
    ++kernel[{k->side, *k->connection, k->seq.raw()}];
    // One skb of several segments: each segment the wire carried after `seq` within its range was resent too.
    if (k->segments > 1)
      for (const auto& [key, list] : sent) {
        const auto& [side, connection, seq] = key;
        const std::uint32_t offset = seq - k->seq.raw();  // modulo 2^32: wrap-safe
        if (side == k->side && connection == *k->connection && offset > 0 && offset < k->length)
          ++kernel[key];
      }
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
