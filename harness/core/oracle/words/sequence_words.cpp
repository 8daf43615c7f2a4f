// Sequence space in words: "FIN from server seq 1 acknowledged with ack 1 (seq + len), not 2",
// "F. seq 1 from server resent 204 ms after the drop".
#include "harness/core/oracle/words/sequence_words.hpp"

#include <algorithm>
#include <initializer_list>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "harness/core/base/duration_text.hpp"
#include "harness/core/oracle/invariant_support.hpp"
#include "harness/core/trace/trace_query.hpp"

namespace lastack {

namespace {

std::string_view control_name(const Segment& s) {
  if (s.flags.syn()) return s.flags.ack() ? "SYN-ACK" : "SYN";
  return "FIN";
}

// "FIN from server seq 1 len 5"
std::string control_text(const WireEvent& c) {
  std::string text = fmt::format("{} from {} seq {}", control_name(c.segment), side_name(c.info.from), c.info.rel_seq);
  if (c.segment.payload_len > 0) text += fmt::format(" len {}", c.segment.payload_len);
  return text;
}

std::string control_problem_text(const ControlProblem& p) {
  const WireEvent& c = p.control;
  const std::uint32_t want = c.info.rel_seq + c.segment.seq_space();
  switch (p.miss) {
    case ControlMiss::ack: return control_text(c) + fmt::format(" acknowledged with ack {}, not {}", p.saw, want);
    case ControlMiss::short_ack:
      return control_text(c) + fmt::format(" acknowledged with ack {} (seq + len), not {}: the {} consumed no sequence "
                                           "number", p.saw, want, control_name(c.segment));
    case ControlMiss::next:
      return control_text(c) + fmt::format(": the {}'s next segment starts at seq {}, not {}", side_name(c.info.from),
                                           p.saw, want);
  }
  return "";
}

std::string drop_text(const DropSeen& d) {
  const std::string segment = segment_text(d.segment);
  switch (d.end) {
    case DropEnd::resent: return fmt::format("{} resent {} after the drop", segment, ms_text(d.after));
    case DropEnd::reset: return segment + " not resent: the connection was reset";
    case DropEnd::timed_out: return segment + " not resent: the sender timed out";
    case DropEnd::acknowledged:
      return fmt::format("{} not resent: the peer's ack {} reached its sender {} after the drop (an earlier copy had arrived)",
                         segment, d.ack, ms_text(d.after));
    case DropEnd::trace_ended:
      return fmt::format("{} not judged: the trace ends {} after it, before its next retransmission was due ({} after it)",
                         segment, ms_text(d.after), ms_text(d.due));
    case DropEnd::never_resent: {
      std::string text = fmt::format("{} dropped at {} was never resent; the trace ends {} later", segment,
                                     ms_text(d.segment.at), ms_text(d.after));
      if (d.rto) text += fmt::format(" (sender's RTO {})", ms_text(*d.rto));
      return text;
    }
  }
  return "";
}

// The drops that ended in any of `ends`, in order.
std::vector<std::string> drops_ending(const DropsSeen& s, std::initializer_list<DropEnd> ends) {
  std::vector<std::string> out;
  for (const DropSeen& d : s.drops)
    if (std::find(ends.begin(), ends.end(), d.end) != ends.end()) out.push_back(drop_text(d));
  return out;
}

}  // namespace

std::string controls_saw(const ControlsSeen& s) {
  if (!s.problems.empty()) {
    std::vector<std::string> bad;
    for (const ControlProblem& p : s.problems) bad.push_back(control_problem_text(p));
    return detail::join_some(bad);
  }
  if (s.controls == 0) return "no SYN or FIN on the wire";
  if (s.acknowledged == 0 && s.unanswered == s.controls)
    return fmt::format("{} SYN/FIN on the wire, none acknowledged or followed by its sender", s.controls);
  std::string out =
      s.acknowledged == 0 || !s.last_acknowledged || !s.last_ack
          ? fmt::format("{} SYN/FIN followed at seq + len + 1", s.controls - s.unanswered)
          : fmt::format("{} SYN/FIN acknowledged at seq + len + 1 (last: {}, ack {})", s.acknowledged,
                        control_text(*s.last_acknowledged), s.last_ack->info.rel_ack);
  if (s.unanswered) out += fmt::format("; {} never acknowledged on the wire", s.unanswered);
  return out;
}

std::string drops_saw(const DropsSeen& s) {
  if (const auto missing = drops_ending(s, {DropEnd::never_resent}); !missing.empty()) return detail::join_some(missing);
  auto judged = drops_ending(s, {DropEnd::resent});
  const auto excused = drops_ending(s, {DropEnd::reset, DropEnd::timed_out, DropEnd::acknowledged});
  const auto unjudged = drops_ending(s, {DropEnd::trace_ended});
  if (judged.empty() && excused.empty() && !unjudged.empty()) return detail::join_some(unjudged);
  if (judged.empty() && excused.empty()) return "no dropped segment carried sequence space";
  judged.insert(judged.end(), excused.begin(), excused.end());
  judged.insert(judged.end(), unjudged.begin(), unjudged.end());
  return detail::join_some(judged);
}

}  // namespace lastack
