// sources-agree in words: "harness error: the sources disagree: client resets: Tcp.OutRsts +2;
// the kernel's sent-reset events: 1: the run proves nothing".
#include "harness/core/oracle/words/sources_words.hpp"

#include <fmt/format.h>

#include "harness/core/oracle/invariant_support.hpp"

namespace lastack {

std::string disagreement_text(const SourcesDisagree& d) {
  return fmt::format("{} {}: {}", side_name(d.side), d.fact, d.sources);
}

std::string sources_saw(const SourcesSeen& s) {
  if (!s.traced) return "no kernel events to compare (states sampled)";
  if (s.disagree.empty() && !s.counters)
    return "retransmissions and state changes agree with the wire (the kernel counters were not read)";
  if (s.disagree.empty()) return "retransmissions, resets, opens, state changes, timewait sockets and segments agree";
  std::vector<std::string> lines;
  for (const SourcesDisagree& d : s.disagree) lines.push_back(disagreement_text(d));
  return "harness error: the sources disagree: " + detail::join_some(lines, 4) + ": the run proves nothing";
}

}  // namespace lastack
