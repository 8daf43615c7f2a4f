// What each check saw, in words: the segments it matched, the gaps it measured, the counts.
#include "harness/core/oracle/words/seen_words.hpp"

#include <algorithm>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "harness/core/base/duration_text.hpp"
#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/oracle/words/app_words.hpp"
#include "harness/core/oracle/words/backoff_words.hpp"
#include "harness/core/oracle/words/command_words.hpp"
#include "harness/core/oracle/words/delivery_words.hpp"
#include "harness/core/oracle/words/sequence_words.hpp"
#include "harness/core/oracle/words/sources_words.hpp"
#include "harness/core/oracle/words/state_change_words.hpp"
#include "harness/core/oracle/words/held_words.hpp"
#include "harness/core/oracle/words/timewait_words.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "harness/core/base/netstat.hpp"

namespace lastack {

using namespace detail;

namespace {

// "S. seq 0 from server at 1.2 ms (retransmission, dropped)"
std::string listed_segment(const WireEvent& w) {
  const auto notes = segment_notes(w);
  return fmt::format("{} at {}{}", segment_text(w), ms_text(w.at), notes.empty() ? "" : " (" + join(notes, ", ") + ")");
}

std::string segments_saw(const Finding& f, const SegmentsSeen& s) {
  const CheckSubject& sub = f.check.subject;
  if (f.check.kind == CheckKind::reset) {
    const std::string whose = subject_side_text(sub) + (std::get<CountClaim>(f.expected).injected_too ? "" : "'s kernel");
    std::vector<std::string> seen;
    for (const WireEvent& w : s.matched)
      seen.push_back(fmt::format("{} at {}{}", segment_text(w), ms_text(w.at), w.injected ? " (injected)" : ""));
    std::string out = seen.empty() ? fmt::format("no RST from {} on the wire", whose)
                                   : fmt::format("{}: {}", counted(seen.size(), "RST"), join(seen));
    if (s.injected_ignored) out += fmt::format("; {} injected by lastack, not counted", counted(s.injected_ignored, "RST"));
    return out;
  }
  std::vector<std::string> seen;
  for (const WireEvent& w : s.matched) seen.push_back(listed_segment(w));
  if (seen.empty()) return fmt::format("no segment matching {} on the wire", selector_words(sub));
  return fmt::format("{}: {}", counted(seen.size(), "segment"), first_few(seen, listed_segments));
}

std::string gap_problem_text(const GapProblem& p) {
  if (p.gap == 1)
    return fmt::format("first gap {} vs {}, outside the {}", ms_text(p.measured), ms_text(p.nominal), p.bound.text());
  return fmt::format("gap {} is {}, not {} (double gap {}; {})", p.gap, ms_text(p.measured), ms_text(p.nominal),
                     p.gap - 1, p.bound.text());
}

// The chain in words: "retransmitted twice, same seq 1 (F.), gaps 204 ms, 408 ms (first: ...)".
std::string chain_text(const RetransmissionsSeen& s) {
  if (s.again.empty())
    return fmt::format("{} sent at {}, never retransmitted", segment_text(s.original), ms_text(s.original.at));
  const bool same_seq = std::all_of(s.again.begin(), s.again.end(),
                                    [&](const WireEvent& w) { return w.segment.seq == s.original.segment.seq; });
  return fmt::format("retransmitted {}, {} seq {} ({}), gap{} {} (first: {}{}{})", times_text(s.again.size()),
                     same_seq ? "same" : "covering", s.original.info.rel_seq, s.original.segment.flags.tcpdump(),
                     s.gaps.size() == 1 ? "" : "s", ms_list_text(s.gaps),
                     s.probes ? "tail-loss probe" : "RTO retransmission",
                     s.probes_inferred ? ", inferred from the gaps" : ", the kernel's cause",
                     s.rto ? fmt::format("; RTO {}", ms_text(*s.rto)) : "; no RTO sampled");
}

std::string retransmissions_saw(const Finding& f, const RetransmissionsSeen& s) {
  std::string out = chain_text(s);
  const auto& claim = std::get<RetransmitClaim>(f.expected);
  const std::optional<GapClaim>& want = claim.first_gap;
  if (want && want->source == GapSource::rto_min) out += "; assumed TCP_RTO_MIN 200 ms";
  const Instant wire_started = s.timer_restarted.value_or(s.original.at);
  if (s.timer_restarted)
    out += fmt::format("; the timer restarted at {} (an ACK of new data reached the sender)", ms_text(*s.timer_restarted));
  if (s.kernel_armed) {
    const Instant armed = *s.kernel_armed;
    out += fmt::format("; the kernel armed it {} {}, at {}, by its own count",
                       ms_text(armed > wire_started ? armed - wire_started : wire_started - armed),
                       armed > wire_started ? "later" : "earlier", ms_text(armed));
  }
  const bool too_short_listed = s.backoff_too_short;
  if (want && s.first_gap && s.problems.empty() && !too_short_listed && f.bound)
    out += fmt::format("; first gap {} vs {}, {}", ms_text(*s.first_gap), ms_text(want->nominal), f.bound->text());
  std::vector<std::string> problems;
  for (const GapProblem& p : s.problems)
    if (p.gap == 1) problems.push_back(gap_problem_text(p));
  if (s.backoff_too_short)
    problems.push_back(fmt::format("backoff needs at least two timer retransmissions{}",
                                   s.probes ? " after the tail-loss probe" : ""));
  for (const GapProblem& p : s.problems)
    if (p.gap > 1) problems.push_back(gap_problem_text(p));
  if (!problems.empty()) out += ": " + join(problems);
  return out;
}

std::string connections_saw(const ConnectionsSeen& s) {
  std::vector<std::string> seen;
  for (const ConnectionSeen& c : s.connections)
    seen.push_back(fmt::format("{} (client port {}, {})", c.number.value, c.client_port, counted(c.segments, "segment")));
  if (seen.empty()) return "no connection on the wire";
  return fmt::format("{}: {}", counted(seen.size(), "connection"), first_few(seen, listed_connections));
}

// "F. (server, acks the first FIN, len 5, retransmission)"
std::string close_segment_text(const WireEvent& w) {
  std::vector<std::string> notes{std::string(side_name(w.info.from))};
  if (w.info.roles.has(Role::first_fin_ack)) notes.emplace_back("acks the first FIN");
  if (w.segment.payload_len > 0) notes.push_back(fmt::format("len {}", w.segment.payload_len));
  for (auto& note : segment_notes(w)) notes.push_back(std::move(note));
  return fmt::format("{} ({})", w.segment.flags.tcpdump(), join(notes, ", "));
}

std::string closes_saw(const ClosesSeen& s) {
  if (s.missing) return fmt::format("no connection {} on the wire", s.missing->value);
  if (s.closes.empty()) return "no connection on the wire";
  std::vector<std::string> per_connection;
  for (const CloseSeen& c : s.closes) {
    std::vector<std::string> close;
    for (const WireEvent& w : c.segments) close.push_back(close_segment_text(w));
    const std::string segments = first_few(close, listed_close_segments);
    std::string text =
        close.empty()  ? "no FIN on the wire"
        : !c.completed ? fmt::format("the close never completed (no final-ack): {} from the first FIN: {}",
                                     counted(close.size(), "segment"), segments)
                       : fmt::format("{}: {}", counted(close.size(), "segment"), segments);
    if (c.data_acks > 0 && !close.empty())
      text += fmt::format(" (not counted: {} ACK{} of data sent before the FIN)", c.data_acks, c.data_acks == 1 ? "" : "s");
    per_connection.push_back(s.numbered ? fmt::format("connection {}: {}", c.connection.value, text) : text);
  }
  return join(per_connection);
}

std::string counter_saw(const Finding& f, const CounterSeen& s) {
  const CheckSubject& sub = f.check.subject;
  const std::string side = subject_side_text(sub);
  if (s.missing)
    return fmt::format("no counter {} in the {}'s {}{}", sub.counter, side, counter_file(counter_group(sub.counter)),
                       s.other_case ? fmt::format(" (it has {})", *s.other_case) : "");
  return fmt::format("{} {} {:+}{}", side, sub.counter, s.delta,
                     s.unlisted ? " (the kernel lists an IcmpMsg type only once it is counted)" : "");
}

// "SYN_SENT → ESTABLISHED → FIN_WAIT_2 (timewait socket)"
std::string path_text(const SocketPath& p) { return steps_text(p.steps); }

std::string state_problem_text(const StateProblem& p) {
  switch (p.miss) {
    case StateMiss::never_reached: return fmt::format("never reached {}", state_name(p.state));
    case StateMiss::ended_in: return fmt::format("ended in {}", state_name(p.state));
    case StateMiss::entered: return fmt::format("entered {}", state_name(p.state));
  }
  return "";
}

// Each socket's path ("port 40000: ..." when several), then what broke the claim or was unknown.
std::string states_saw(const StatesSeen& s) {
  std::string out;
  if (s.sockets.size() == 1) {
    out = path_text(s.sockets.front());
  } else {
    std::vector<std::string> parts;
    for (const SocketPath& p : s.sockets) parts.push_back(fmt::format("port {}: {}", p.local_port, path_text(p)));
    out = join(parts);
  }
  std::vector<std::string> problems;
  for (const StateProblem& p : s.problems) problems.push_back(state_problem_text(p));
  if (!problems.empty()) return out + " (" + join(problems) + ")";
  if (!s.unknowns.empty()) return out + ": " + join(s.unknowns);
  return out;
}

std::string harness_saw(const Finding& f, const HarnessSeen& s, Outcome outcome) {
  if (f.check.kind == CheckKind::harness_queue_drops)
    return outcome == Outcome::pass ? "0 queue drops"
                                    : fmt::format("{} segments dropped at the NFQUEUE (queue overflow): the run "
                                                  "proves nothing about them",
                                                  s.count);
  if (outcome == Outcome::pass) return "no harness error";
  return fmt::format("{}{}: the run proves nothing", s.first,
                     s.count > 1 ? fmt::format(" (and {} more)", s.count - 1) : "");
}

// reset, received-by: "1 RST accepted (tcp_receive_reset): in ESTABLISHED at 12.3 ms".
std::string accepted_saw(const Finding& f, const ResetsAccepted& s) {
  if (s.accepted.empty())
    return fmt::format("the {}'s kernel accepted no RST (tcp_receive_reset)", subject_side_text(f.check.subject));
  std::vector<std::string> seen;
  for (const KernelReset& k : s.accepted) seen.push_back(fmt::format("in {} at {}", state_name(k.state), ms_text(k.at)));
  return fmt::format("{} accepted (tcp_receive_reset): {}", counted(seen.size(), "RST"), join(seen));
}

// What a check with nothing to look at says, by its kind.
std::string nothing_saw(const Finding& f) {
  const CheckSubject& s = f.check.subject;
  switch (f.check.kind) {
    case CheckKind::run_finished: return "the run timed out (see the trace's last events)";
    case CheckKind::retransmitted: return fmt::format("no {} on the wire", selector_words(s));
    default: return "";
  }
}

}  // namespace

std::string TimingBound::text() const {
  std::string out = fmt::format("bound -{}/+{} (timer +{}", ms_text(early), ms_text(late), ms_text(timer));
  // None allowed when the gap starts at the kernel's own arming time.
  if (rtt > Duration{}) out += fmt::format(", RTT +{}", ms_text(rtt));
  if (host > Duration{}) out += fmt::format(", host +{}", ms_text(host));
  if (kernel > Duration{}) out += fmt::format(", timers run {} late by the kernel's own count", ms_text(kernel));
  if (resolution > Duration{}) out += fmt::format(", wire times ±{}", ms_text(resolution));
  return out + ")";
}

std::string selector_words(const CheckSubject& s) {
  std::string out = s.segment ? std::string(role_name(*s.segment)) : "segment";
  if (s.with) out += fmt::format(" with {}", role_name(*s.with));
  if (s.side) out += " from " + subject_side_text(s);
  if (s.connection) out += fmt::format(" on connection {}", s.connection->value);
  return out;
}

std::string subject_side_text(const CheckSubject& s, const char* none) {
  if (!s.side) return none;
  // Like side_label: "first-closer (server)" once the trace resolves it, "first-closer" while not.
  if (s.side->by_close_order() && s.resolved)
    return fmt::format("{} ({})", side_ref_name(*s.side), side_name(*s.resolved));
  return std::string(side_ref_name(*s.side));
}

std::string seen_words(const Finding& f, Outcome outcome) {
  return std::visit(
      [&](const auto& s) -> std::string {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, NothingSeen>)
          return nothing_saw(f);
        else if constexpr (std::is_same_v<T, SegmentsSeen>)
          return segments_saw(f, s);
        else if constexpr (std::is_same_v<T, RetransmissionsSeen>)
          return retransmissions_saw(f, s);
        else if constexpr (std::is_same_v<T, ConnectionsSeen>)
          return connections_saw(s);
        else if constexpr (std::is_same_v<T, ClosesSeen>)
          return closes_saw(s);
        else if constexpr (std::is_same_v<T, CounterSeen>)
          return counter_saw(f, s);
        else if constexpr (std::is_same_v<T, StatesSeen>)
          return states_saw(s);
        else if constexpr (std::is_same_v<T, HoldsSeen>)
          return held_saw(f.check.subject, std::get<HeldClaim>(f.expected), s);
        else if constexpr (std::is_same_v<T, AppSeen>)
          return app_saw(f, std::get<AppClaim>(f.expected), s);
        else if constexpr (std::is_same_v<T, TimeWaitSeen>)
          return timewait_saw(std::get<TimeWaitClaim>(f.expected), s);
        else if constexpr (std::is_same_v<T, HarnessSeen>)
          return harness_saw(f, s, outcome);
        else if constexpr (std::is_same_v<T, ConnectionMissing>)
          return fmt::format("no connection {} on the wire ({} seen)", s.connection.value, s.on_wire);
        else if constexpr (std::is_same_v<T, CommandSeen>)
          return command_saw(f, std::get<AppClaim>(f.expected), s);
        else if constexpr (std::is_same_v<T, ResetsAccepted>)
          return accepted_saw(f, s);
        else if constexpr (std::is_same_v<T, EndSeen>)
          return end_saw(s);
        else if constexpr (std::is_same_v<T, BackoffSeen>)
          return backoff_saw(s);
        else if constexpr (std::is_same_v<T, ControlsSeen>)
          return controls_saw(s);
        else if constexpr (std::is_same_v<T, DropsSeen>)
          return drops_saw(s);
        else if constexpr (std::is_same_v<T, LegalStatesSeen>)
          return legal_states_saw(s);
        else if constexpr (std::is_same_v<T, ClosersSeen>)
          return closers_saw(s);
        else if constexpr (std::is_same_v<T, DeliverySeen>)
          return delivery_saw(s);
        else
          return sources_saw(s);
      },
      f.saw);
}

}  // namespace lastack
