// The precondition of `stale-from`, from the wire: the ISNs of the old and the later connections
// and how far the old one's sequence numbers got.
#include "harness/core/trace/stale_reach.hpp"

#include <chrono>
#include <cstdint>
#include <vector>

#include <fmt/format.h>

namespace lastack {

namespace {

// `sender`'s first SYN (or SYN-ACK) in each connection, by connection number; null: none seen.
std::vector<const WireEvent*> openings(const Trace& trace, Side sender) {
  std::vector<const WireEvent*> out;
  for (const TraceEvent& ev : trace.events) {
    const auto* w = std::get_if<WireEvent>(&ev);
    if (!w || w->injected || w->info.from != sender || !w->segment.flags.syn()) continue;
    const std::size_t c = w->info.connection.value;
    if (out.size() <= c) out.resize(c + 1, nullptr);
    if (!out[c]) out[c] = w;
  }
  return out;
}

// How far `sender`'s own segments of connection `c` got past `isn`: its last byte (and FIN).
std::uint32_t sequence_used(const Trace& trace, Side sender, ConnectionIndex c, SeqNum isn) {
  std::uint32_t used = 0;
  for (const TraceEvent& ev : trace.events) {
    const auto* w = std::get_if<WireEvent>(&ev);
    // Copies lastack injected are the old connection's own segments again: nothing further.
    if (!w || w->injected || w->info.from != sender || w->info.connection != c) continue;
    const std::int32_t end = w->segment.seq_end() - isn;
    if (end > 0 && static_cast<std::uint32_t>(end) > used) used = static_cast<std::uint32_t>(end);
  }
  return used;
}

}  // namespace

std::optional<std::string> stale_out_of_reach(const Trace& trace, Side sender, ConnectionIndex old) {
  const std::vector<const WireEvent*> opened = openings(trace, sender);
  if (old.value >= opened.size() || !opened[old.value]) return std::nullopt;
  const Segment& old_syn = opened[old.value]->segment;
  const std::uint32_t used = sequence_used(trace, sender, old, old_syn.seq);
  std::vector<std::string> later;
  for (std::size_t c = old.value + 1; c < opened.size(); ++c) {
    if (!opened[c] || opened[c]->segment.sport != old_syn.sport || opened[c]->segment.dport != old_syn.dport)
      continue;
    // The later connection's first byte, counted from the old ISN; negative: it starts before.
    const std::int32_t start = (opened[c]->segment.seq + 1) - old_syn.seq;
    if (start < 0 || static_cast<std::uint32_t>(start) < used) return std::nullopt;
    const double ms = std::chrono::duration<double, std::milli>(opened[c]->at - opened[old.value]->at).count();
    later.push_back(fmt::format("connection {}'s {} sequence numbers start {} past connection {}'s ISN, {:.0f} ms "
                                "later, beyond the {} connection {} used",
                                number_of(ConnectionIndex{c}).value, side_name(sender), start, number_of(old).value, ms,
                                used, number_of(old).value));
  }
  if (later.empty()) return std::nullopt;
  std::string why;
  for (const std::string& s : later) why += (why.empty() ? "" : "; ") + s;
  return fmt::format("connection {} was slower than the ISN clock, so none of its segments could land in a later "
                     "one: {}",
                     number_of(old).value, why);
}

}  // namespace lastack
