// Built-in invariants about sequence space and retransmission: RFC 9293 and Linux behaviour
// that holds in every run. Each check says what it expected and what it saw, with the numbers.
// (State and close invariants are in invariants_close.cpp.)
#include "harness/core/oracle/invariants.hpp"

#include "harness/core/oracle/backoff_model.hpp"

#include <algorithm>
#include <cerrno>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "harness/core/oracle/invariant_support.hpp"
#include "harness/core/oracle/words/finding_words.hpp"
#include "harness/core/trace/state_history.hpp"
#include "harness/core/trace/trace_query.hpp"

namespace lastack {
namespace {

using detail::builtin;
using detail::judged_builtin;
using std::chrono::milliseconds;

Instant trace_end(const Trace& trace) {
  return trace.events.empty() ? Instant{} : event_time(trace.events.back());
}

// The first later segment from the peer whose ack covers the control octet of `c`.
const WireEvent* acknowledgment_of(const std::vector<const WireEvent*>& wires, std::size_t i) {
  const WireEvent& c = *wires[i];
  const SeqNum payload_end = c.segment.seq + c.segment.payload_len;
  for (std::size_t j = i + 1; j < wires.size(); ++j) {
    const WireEvent& w = *wires[j];
    if (w.info.connection == c.info.connection && w.info.from != c.info.from && !w.injected &&
        w.segment.flags.ack() && w.segment.ack.after(payload_end))
      return &w;
  }
  return nullptr;
}

// The peer's last segment sent after `c` reached it that acknowledges exactly seq + len: the
// control octet not counted.
const WireEvent* short_acknowledgment(const std::vector<const WireEvent*>& wires, std::size_t i) {
  const WireEvent& c = *wires[i];
  if (!delivered(c)) return nullptr;
  const SeqNum payload_end = c.segment.seq + c.segment.payload_len;
  const WireEvent* found = nullptr;
  for (std::size_t j = i + 1; j < wires.size(); ++j) {
    const WireEvent& w = *wires[j];
    if (w.info.connection == c.info.connection && w.info.from != c.info.from && !w.injected &&
        w.segment.flags.ack() && !w.segment.flags.rst() && w.at > arrival_time(c) &&
        w.segment.ack == payload_end)
      found = &w;
  }
  return found;
}

// The sender's next new segment after `c` (not a retransmission of it, not injected).
const WireEvent* next_from_sender(const std::vector<const WireEvent*>& wires, std::size_t i) {
  const WireEvent& c = *wires[i];
  for (std::size_t j = i + 1; j < wires.size(); ++j) {
    const WireEvent& w = *wires[j];
    if (w.info.connection != c.info.connection || w.info.from != c.info.from || w.injected) continue;
    // A retransmission resends old space; a RST may carry any acceptable sequence number.
    if (w.info.roles.has(Role::retransmission) || w.segment.flags.rst()) continue;
    const bool same_control = (w.segment.flags.syn() && c.segment.flags.syn()) ||
                              (w.segment.flags.fin() && c.segment.flags.fin());
    if (same_control && w.segment.seq == c.segment.seq) continue;  // the same SYN/FIN again
    return &w;
  }
  return nullptr;
}

// The sender gave up: its socket vanished after retransmitting, or its app saw ETIMEDOUT.
bool closed_by_timeout(const Trace& trace, const WireEvent& dropped) {
  for (const TraceEvent& ev : trace.events) {
    const auto* a = std::get_if<AppEvent>(&ev);
    if (a && a->side == dropped.info.from && a->at >= dropped.at && a->result == StepResult::error &&
        a->error == ETIMEDOUT)
      return true;
  }
  for (const SocketHistory& h : socket_histories(trace)) {
    if (h.side != dropped.info.from || (h.connection && *h.connection != dropped.info.connection))
      continue;
    for (std::size_t k = 1; k < h.events.size(); ++k) {
      const SocketEvent& e = *h.events[k];
      if (e.state == TcpState::CLOSE && e.at >= dropped.at && h.events[k - 1]->retransmits > 0)
        return true;
    }
  }
  return false;
}

// When the sender's next retransmission of `d` was due at the latest: its RTO after `d`, or
// double the gap before `d` when `d` is itself a retransmission (the timer backs off), plus the
// timer's slack.
Instant next_retransmission_due(const Trace& trace, const WireEvent& d) {
  Duration wait = rto_for(trace, d, std::nullopt).value_or(tcp_rto_min);
  const WireEvent* previous = nullptr;
  for (const WireEvent* w : wire_events(trace)) {
    if (w == &d) break;
    if (transmission_key(*w) == transmission_key(d)) previous = w;
  }
  if (previous) wait = std::max<Duration>(wait, 2 * (d.at - previous->at));
  return d.at + wait + timing_bound(trace, wait, false).late;
}

// The peer's first delivered ACK covering all of dropped `d`, reaching its sender after the drop
// and before `due`: an earlier copy had arrived, so there is nothing left to resend.
const WireEvent* covering_ack(const Trace& trace, const WireEvent& d, Instant due) {
  for (const WireEvent* w : wire_events(trace)) {
    if (w->info.connection != d.info.connection || w->info.from == d.info.from || w->injected ||
        !delivered(*w) || !w->segment.flags.ack() || w->segment.flags.rst())
      continue;
    const Instant arrived = arrival_time(*w);
    if (arrived >= d.at && arrived <= due && w->segment.ack.at_or_after(d.segment.seq_end())) return w;
  }
  return nullptr;
}

std::uint32_t syn_linear_timeouts(const Trace& trace, Side side) {
  const auto& sysctls = trace.sysctls[side];
  const auto it = sysctls.find("net.ipv4.tcp_syn_linear_timeouts");
  if (it == sysctls.end()) return 4;  // the kernel's default (6.x)
  try {
    return static_cast<std::uint32_t>(std::stoul(it->second));
  } catch (const std::exception&) {
    return 4;
  }
}

// The sender's floor for the retransmission timer: net.ipv4.tcp_rto_min_us, else TCP_RTO_MIN.
Duration rto_min_of(const Trace& trace, Side side) {
  const auto& sysctls = trace.sysctls[side];
  const auto it = sysctls.find("net.ipv4.tcp_rto_min_us");
  if (it == sysctls.end()) return tcp_rto_min;
  try {
    return std::chrono::microseconds(std::stoll(it->second));
  } catch (const std::exception&) {
    return tcp_rto_min;
  }
}

// Every transmission of each sequence number: the first send, then the kernel's retransmissions.
// A SYN-ACK sent again because the peer's SYN came again (tcp_check_req answers a duplicate SYN
// at once): a reply, not the SYN-ACK timer, so no part of its backoff. The reply follows the
// SYN's arrival within the server's processing time.
bool answers_duplicate_syn(const std::vector<const WireEvent*>& wires, const WireEvent& w) {
  constexpr auto reply_window = std::chrono::milliseconds(5);
  if (!w.segment.flags.syn() || !w.segment.flags.ack()) return false;
  return std::any_of(wires.begin(), wires.end(), [&](const WireEvent* syn) {
    if (syn->info.connection != w.info.connection || syn->info.from == w.info.from || !delivered(*syn) ||
        !syn->segment.flags.syn() || syn->segment.flags.ack() || !syn->info.roles.has(Role::retransmission))
      return false;
    const Instant arrived = arrival_time(*syn);
    return arrived <= w.at && w.at - arrived <= reply_window;
  });
}

std::vector<std::vector<const WireEvent*>> transmission_chains(const Trace& trace) {
  std::map<TransmissionKey, std::size_t> index;
  std::vector<std::vector<const WireEvent*>> chains;
  const auto wires = wire_events(trace);
  for (const WireEvent* w : wires) {
    if (w->segment.seq_space() == 0 || w->injected) continue;
    if (answers_duplicate_syn(wires, *w)) continue;
    const TransmissionKey key = transmission_key(*w);
    const auto it = index.find(key);
    if (it == index.end()) {
      index.emplace(key, chains.size());
      chains.push_back({w});
    } else if (kernel_retransmission(*w)) {
      chains[it->second].push_back(w);
    }
  }
  return chains;
}

// Judges one chain of transmissions: the chain, with the first gap that broke its rule; `judged`
// counts the gaps judged.
BackoffChain judge_backoff(const Trace& trace, const std::vector<const WireEvent*>& v, std::size_t& judged) {
  BackoffChain out;
  out.first = *v.front();
  std::vector<Duration>& gaps = out.gaps;
  for (std::size_t i = 1; i < v.size(); ++i) gaps.push_back(v[i]->at - v[i - 1]->at);
  // Each retransmission's cause: the kernel's, else inferred from the gaps.
  std::vector<std::optional<RetransmitCause>> causes;
  bool exact = true;
  for (std::size_t i = 1; i < v.size(); ++i) {
    const KernelRetransmit* k = kernel_retransmit_for(trace, *v[i]);
    causes.push_back(k ? std::optional(k->cause) : std::nullopt);
    exact = exact && k;
  }
  const auto rto = rto_for(trace, *v.front(), v[1]->at);
  std::size_t probes = 0;
  if (!exact) probes = leading_probes(gaps, rto);
  const WireEvent& first = *v.front();
  const bool active_syn = first.segment.flags.syn() && !first.segment.flags.ack();
  out.syn_linear = active_syn ? syn_linear_timeouts(trace, first.info.from) : 0;
  if (exact)
    for (const auto& c : causes) out.causes.push_back(*c);
  out.probe_first = !exact && probes;
  if (const Duration max = rto_max_of(trace, first.info.from); max != Duration(tcp_rto_max)) out.rto_max = max;
  const Duration rto_floor = rto_min_of(trace, first.info.from);
  const auto timer_driven = [&](std::size_t g) {  // gap g ends in a timer retransmission
    if (causes[g]) return *causes[g] == RetransmitCause::rto || *causes[g] == RetransmitCause::synack;
    // Inferred: the retransmission timer never fires sooner than the RTO floor (tcp_rto_min).
    return g >= probes && gaps[g] + timing_bound(trace, rto_floor, false).early >= rto_floor;
  };
  for (std::size_t g = 1; g < gaps.size(); ++g) {
    // A probe or a fast retransmit on either end breaks the chain: the timer was re-armed.
    if (!timer_driven(g) || !timer_driven(g - 1)) continue;
    ++judged;
    GapVerdict verdict = judge_gap(trace, v, gaps, g);
    if (!verdict.ok) {
      out.problem = std::move(verdict.problem);
      break;
    }
  }
  return out;
}

}  // namespace

CheckResult check_retransmission_backoff(const Trace& trace) {
  Finding f = builtin(CheckKind::retransmission_backoff);
  BackoffSeen seen;
  std::size_t judged = 0;
  for (const auto& chain : transmission_chains(trace)) {
    if (chain.size() < 3) continue;
    const std::size_t before = judged;
    BackoffChain c = judge_backoff(trace, chain, judged);
    if (c.problem)
      seen.broken.push_back(std::move(c));
    else if (judged > before)
      seen.kept.push_back(std::move(c));
  }
  const Outcome outcome = !seen.broken.empty() ? Outcome::fail
                          : seen.kept.empty()  ? Outcome::not_applicable
                                               : Outcome::pass;
  f.saw = std::move(seen);
  return judged_builtin(std::move(f), outcome);
}

CheckResult check_syn_fin_consume_seq(const Trace& trace) {
  Finding f = builtin(CheckKind::syn_fin_consume_seq);
  const auto wires = wire_events(trace);
  std::set<TransmissionKey> checked;  // a retransmitted SYN/FIN is the same sequence space
  ControlsSeen seen;
  for (std::size_t i = 0; i < wires.size(); ++i) {
    const WireEvent& c = *wires[i];
    if ((!c.segment.flags.syn() && !c.segment.flags.fin()) || c.injected) continue;
    if (!checked.insert(transmission_key(c)).second) continue;
    ++seen.controls;
    const WireEvent* ack = acknowledgment_of(wires, i);
    const WireEvent* next = next_from_sender(wires, i);
    bool answered = false;
    if (ack) {
      answered = true;
      if (ack->segment.ack != c.segment.seq_end()) seen.problems.push_back({c, ControlMiss::ack, ack->info.rel_ack});
    } else if (const WireEvent* short_ack = short_acknowledgment(wires, i)) {
      answered = true;
      seen.problems.push_back({c, ControlMiss::short_ack, short_ack->info.rel_ack});
    }
    if (next && (next->segment.seq == c.segment.seq + c.segment.payload_len ||
                 (trace.every_segment && next->segment.seq != c.segment.seq_end()))) {
      answered = true;
      seen.problems.push_back({c, ControlMiss::next, next->info.rel_seq});
    } else if (next) {
      answered = true;
    }
    if (!answered) {
      ++seen.unanswered;
    } else if (ack) {
      ++seen.acknowledged;
      seen.last_acknowledged = c;
      seen.last_ack = *ack;
    }
  }
  const Outcome outcome = !seen.problems.empty()                                ? Outcome::fail
                          : seen.controls == 0                                 ? Outcome::not_applicable
                          : seen.acknowledged == 0 && seen.unanswered == seen.controls ? Outcome::not_checked
                                                                               : Outcome::pass;
  if (outcome == Outcome::not_checked) f.why_not = NotChecked{Unjudged::unanswered, {}, {}};
  f.saw = std::move(seen);
  return judged_builtin(std::move(f), outcome);
}

CheckResult check_dropped_is_retransmitted(const Trace& trace) {
  Finding f = builtin(CheckKind::dropped_is_retransmitted);
  DropsSeen seen;
  std::size_t missing = 0, unjudged = 0;
  for (const WireEvent* d : wire_events(trace)) {
    if (d->fate != Fate::dropped || d->segment.seq_space() == 0) continue;
    DropSeen drop{*d, DropEnd::resent, {}, {}, {}};
    const auto again = retransmissions_of(trace, *d);
    const Instant due = next_retransmission_due(trace, *d);
    if (!again.empty()) {
      drop.after = again.front()->at - d->at;
    } else if (reset_after(trace, d->info.connection, d->at)) {
      drop.end = DropEnd::reset;
    } else if (closed_by_timeout(trace, *d)) {
      drop.end = DropEnd::timed_out;
    } else if (const WireEvent* ack = covering_ack(trace, *d, due)) {
      drop = {*d, DropEnd::acknowledged, arrival_time(*ack) - d->at, {}, {}};
      drop.ack = ack->info.rel_ack;
    } else if (trace_end(trace) < due) {
      // The run ended before the sender's timer could fire again (a sender about to give up).
      drop = {*d, DropEnd::trace_ended, trace_end(trace) - d->at, due - d->at, {}};
      ++unjudged;
    } else {
      const auto rto = rto_for(trace, *d, std::nullopt);
      drop = {*d, DropEnd::never_resent, trace_end(trace) - d->at, {}, {}};
      if (rto) drop.rto = *rto;
      ++missing;
    }
    seen.drops.push_back(std::move(drop));
  }
  const std::size_t judged = seen.drops.size() - unjudged - missing;  // resent or excused
  Outcome outcome = outcome_of(missing == 0);
  if (missing == 0 && judged == 0 && unjudged > 0) {
    outcome = Outcome::not_checked;
    f.why_not = NotChecked{Unjudged::trace_ended, {}, {}};
  } else if (missing == 0 && judged == 0) {
    outcome = Outcome::not_applicable;
  }
  f.saw = std::move(seen);
  return judged_builtin(std::move(f), outcome);
}

CheckResult check_harness_queue_drops(const Trace& trace) {
  return judged(Finding{CheckId{CheckKind::harness_queue_drops, {}, {}}, InvariantClaim{},
                        HarnessSeen{trace.queue_drops, {}}, {}, {}, {}},
                outcome_of(trace.queue_drops == 0));
}

CheckResult check_harness_errors(const Trace& trace) {
  Finding f{CheckId{CheckKind::harness_errors, {}, {}}, InvariantClaim{}, NothingSeen{}, {}, {}, {}};
  if (trace.events.empty()) {
    f.why_not = NotChecked{Unjudged::nothing_to_judge, "nothing observed", {}};
    return judged(std::move(f), Outcome::not_applicable);
  }
  const auto errors = harness_errors(trace);
  f.saw = HarnessSeen{errors.size(), errors.empty() ? std::string() : errors.front()->what};
  return judged(std::move(f), outcome_of(errors.empty()));
}

}  // namespace lastack
