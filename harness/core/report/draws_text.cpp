// The seed and the draws of a trace in words.
#include "harness/core/report/draws_text.hpp"

#include <map>
#include <vector>

#include <fmt/format.h>

#include "harness/core/report/policy_text.hpp"
#include "harness/core/trace/trace_query.hpp"

namespace lastack {

namespace {
// One probabilistic fault's draws over the run.
struct FaultDraws {
  std::size_t line = 0;
  double probability = 1;
  std::size_t drawn = 0;
  std::vector<std::string> fired;  // "#5 server data seq 1449 (0.0312)"
};
}  // namespace

std::string render_draws(const Trace& trace) {
  if (!trace.random_seed) return "";
  std::map<std::size_t, FaultDraws> faults;
  for (const TraceEvent& e : trace.events) {
    const auto* w = std::get_if<WireEvent>(&e);
    if (!w) continue;
    for (const FaultDraw& d : w->draws) {
      FaultDraws& f = faults[d.fault];
      f.line = d.line;
      f.probability = d.probability;
      ++f.drawn;
      if (d.fired) f.fired.push_back(fmt::format("#{} {} ({:.4f})", d.match, segment_text(*w), d.value));
    }
  }
  std::string out = fmt::format("random seed {}{}\n", *trace.random_seed, faults.empty() ? ": no draws" : "");
  for (const auto& [fault, f] : faults)
    out += fmt::format("  fault {} (line {}, p={}): {} of {} draw{} fired{}{}\n", fault + 1, f.line, f.probability,
                       f.fired.size(), f.drawn, f.drawn == 1 ? "" : "s", f.fired.empty() ? "" : ": ",
                       fmt::join(f.fired, ", "));
  return out;
}

std::string render_recorded_link(const Trace& trace) {
  std::size_t passages = 0, dropped = 0;
  for (const TraceEvent& e : trace.events)
    if (const auto* w = std::get_if<WireEvent>(&e); w && w->link) {
      ++passages;
      if (w->link->drop != LinkDrop::none) ++dropped;
    }
  if (!trace.link && passages == 0) return "";
  std::string out =
      trace.link ? fmt::format("link, as recorded ({}): client-to-server {}; server-to-client {}\n",
                               trace.link->line ? fmt::format("[link] at line {}", trace.link->line) : "--link",
                               describe_link(trace.link->from[Side::client]), describe_link(trace.link->from[Side::server]))
                 : std::string("link: the trace does not record its settings, only what it did to each segment\n");
  out += fmt::format("  {} {} passages read from the trace as the run made them ({} dropped by the link), not "
                     "drawn again\n",
                     passages, passages == 1 ? "segment's" : "segments'", dropped);
  return out;
}

}  // namespace lastack
