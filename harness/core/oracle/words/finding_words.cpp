// The checks' findings in words: names, what each expected, and why one could not look.
#include "harness/core/oracle/words/finding_words.hpp"

#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "harness/core/base/duration_text.hpp"
#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/oracle/words/app_words.hpp"
#include "harness/core/oracle/words/command_words.hpp"
#include "harness/core/oracle/words/held_words.hpp"
#include "harness/core/oracle/words/seen_words.hpp"
#include "harness/core/oracle/words/timewait_words.hpp"
#include "harness/core/trace/pending.hpp"

namespace lastack {

using namespace detail;

namespace {

// A built-in's name and claim: fixed by its kind.
struct BuiltinWords {
  std::string_view name, expected;
};

BuiltinWords builtin_words(CheckKind k) {
  switch (k) {
    case CheckKind::run_finished: return {"run finished", ""};
    case CheckKind::syn_fin_consume_seq:
      return {"syn-fin-consume-seq",
              "every SYN and FIN acknowledged with ack = seq + len + 1, and the sender's next segment "
              "continuing at seq + len + 1"};
    case CheckKind::dropped_is_retransmitted:
      return {"dropped-is-retransmitted",
              "every dropped segment that carries sequence space sent again from the same sequence number, "
              "unless the connection is reset, the sender times out, or the peer acknowledges it first"};
    case CheckKind::retransmission_backoff:
      return {"retransmission-backoff",
              "each timer retransmission of a sequence number waits about double the gap before it (tail-loss "
              "probes, fast retransmits and tcp_syn_linear_timeouts allowed for)"};
    case CheckKind::legal_states:
      return {"legal-states",
              "every socket's state changes are single steps of the TCP state diagram (RFC 9293, plus Linux's own)"};
    case CheckKind::timewait_only_active_closers:
      return {"timewait-only-active-closers",
              "the side(s) that closed first, and only they, enter TIME_WAIT once their close completes"};
    case CheckKind::bytes_delivered:
      return {"bytes-delivered",
              "each app reads every byte its peer's app wrote, intact (unless a reset or an error intervened)"};
    case CheckKind::harness_queue_drops:
      return {"harness-queue-drops", "no segment lost by the kernel before it reached the interceptor"};
    case CheckKind::harness_errors:
      return {"harness-errors", "the lab saw the whole wire and gave every verdict it logged"};
    case CheckKind::sources_agree:
      return {"sources-agree",
              "the kernel's events, its counters, its samples and the wire agree on every fact they share"};
    default: return {"", ""};
  }
}

// "reaches TIME_WAIT", "ends in CLOSE", "never enters LAST_ACK", in the claim's order.
std::vector<std::string> state_wants(const StateClaim& c) {
  std::vector<std::string> wants;
  if (c.reaches) wants.push_back(fmt::format("reaches {}", state_name(*c.reaches)));
  if (c.ends_in) wants.push_back(fmt::format("ends in {}", state_name(*c.ends_in)));
  if (c.never) wants.push_back(fmt::format("never enters {}", state_name(*c.never)));
  return wants;
}

// "by exactly +3", "by at least +1", "by +1 to +3"; "unchanged" for count = 0.
std::string change_text(const CountBound<std::int64_t>& b) {
  if (b.count) return *b.count == 0 ? "unchanged" : fmt::format("changed by exactly {:+}", *b.count);
  if (b.min && b.max) return fmt::format("changed by {:+} to {:+}", *b.min, *b.max);
  if (b.min) return fmt::format("changed by at least {:+}", *b.min);
  return fmt::format("changed by at most {:+}", b.max.value_or(0));
}

// "exactly 2 segments", "between 1 and 3 segments", "at most 1 segment", "no segment".
std::string how_many(const CountBound<std::int64_t>& b, std::string_view noun) {
  const auto n = [](std::int64_t v) { return static_cast<std::size_t>(v); };
  if (b.count) return *b.count == 0 ? fmt::format("no {}", noun) : "exactly " + counted(n(*b.count), noun);
  if (b.min && b.max) return fmt::format("between {} and {} {}s", *b.min, *b.max, noun);
  if (b.max) return "at most " + counted(n(*b.max), noun);
  return "at least " + counted(n(b.min.value_or(1)), noun);
}

std::string first_gap_text(const GapClaim& g) {
  switch (g.source) {
    case GapSource::policy: return fmt::format(", the first {} after the original", ms_text(g.nominal));
    case GapSource::sender_rto: return fmt::format(", the first about 1 RTO ({}) after the original", ms_text(g.nominal));
    case GapSource::rto_min: return ", the first about TCP_RTO_MIN (200 ms, no RTO sampled) after the original";
  }
  return "";
}

std::string retransmit_expected(const Finding& f, const RetransmitClaim& c) {
  const std::string what = selector_words(f.check.subject);
  std::string out = c.count == 0u ? fmt::format("the first {} never retransmitted", what)
                    : c.count     ? fmt::format("the first {} retransmitted exactly {}", what, times_text(*c.count))
                                  : fmt::format("the first {} retransmitted at least once", what);
  if (c.first_gap) out += first_gap_text(*c.first_gap);
  if (c.backoff) out += ", each later gap about double the one before";
  return out;
}

// reset, received-by: "the client's kernel accepts exactly 1 RST".
std::string accepted_expected(const std::string& who, const CountBound<std::int64_t>& b) {
  if (b.count == 0) return fmt::format("the {}'s kernel accepts no RST", who);
  if (b.count) return fmt::format("the {}'s kernel accepts exactly {}", who, counted(*b.count, "RST"));
  return fmt::format("the {}'s kernel accepts at least one RST", who);
}

std::string count_expected(const Finding& f, const CountClaim& c) {
  const CheckSubject& s = f.check.subject;
  switch (f.check.kind) {
    case CheckKind::segments:
      return fmt::format("{} matching {} on the wire, whatever their fate", how_many(c.bound, "segment"),
                         selector_words(s));
    case CheckKind::reset: {
      if (c.accepted) return accepted_expected(subject_side_text(s), c.bound);
      const std::string who = subject_side_text(s) + (c.injected_too ? "" : "'s kernel");
      const std::string also = c.injected_too ? ", lastack's injected ones included" : "";
      if (c.bound.count == 0) return fmt::format("no RST from {}{}", who, also);
      if (c.bound.count) return fmt::format("exactly {} from {}{}", counted(*c.bound.count, "RST"), who, also);
      return fmt::format("at least one RST from {}{}", who, also);
    }
    case CheckKind::connections:
      return fmt::format("exactly {} on the wire", counted(c.bound.count.value_or(0), "connection"));
    case CheckKind::close:
      return fmt::format(
          "the close of {} in exactly {}, from the first FIN through the first final-ack (both directions, "
          "retransmissions included)",
          s.connection ? fmt::format("connection {}", s.connection->value) : "every connection",
          counted(c.bound.count.value_or(0), "segment"));
    case CheckKind::counter:
      return fmt::format("the {}'s kernel counter {} {} over the run", subject_side_text(s), s.counter,
                         change_text(c.bound));
    default: return how_many(c.bound, "event");
  }
}

// The check's own name, before a per-connection run adds its connection.
std::string base_name(const Finding& f) {
  const CheckSubject& s = f.check.subject;
  const std::string what = selector_words(s);
  switch (f.check.kind) {
    case CheckKind::retransmitted: {
      const auto* c = std::get_if<RetransmitClaim>(&f.expected);
      return (c && c->count == 0u ? "no retransmission of " : "retransmitted ") + what;
    }
    case CheckKind::segments: return "segments " + what;
    case CheckKind::reset: {
      const auto* c = std::get_if<CountClaim>(&f.expected);
      if (c && c->accepted) return (c->bound.count == 0 ? "no RST accepted by " : "reset received by ") + subject_side_text(s);
      return (c && c->bound.count == 0 ? "no RST from " : "reset from ") + subject_side_text(s);
    }
    case CheckKind::connections: return "connections";
    case CheckKind::close: {
      const auto* c = std::get_if<CountClaim>(&f.expected);
      return fmt::format("close in {}{}", counted(c ? c->bound.count.value_or(0) : 0, "segment"),
                         s.connection ? fmt::format(" on connection {}", s.connection->value) : "");
    }
    case CheckKind::counter: return fmt::format("counter {} {}", subject_side_text(s), s.counter);
    case CheckKind::state: {
      const auto* c = std::get_if<StateClaim>(&f.expected);
      return fmt::format("state {} {}", subject_side_text(s), c ? join(state_wants(*c), ", ") : "");
    }
    case CheckKind::socket_held:
      if (const auto* c = std::get_if<HeldClaim>(&f.expected)) return held_name(s, *c);
      break;
    case CheckKind::timewait:
      if (const auto* c = std::get_if<TimeWaitClaim>(&f.expected)) return timewait_name(*c);
      break;
    case CheckKind::app:
      if (const auto* c = std::get_if<AppClaim>(&f.expected)) return c->commands ? command_name(s, *c) : app_name(s, *c);
      break;
    case CheckKind::command_exit:
    case CheckKind::command_ended:
    case CheckKind::function_ended: return end_name(f);
    default: break;
  }
  return std::string(builtin_words(f.check.kind).name);
}

// Why it could not look, added to what it saw (or in its place, when it saw nothing).
std::string with_why_not(const Finding& f, std::string saw, const NotChecked& n) {
  switch (n.reason) {
    case Unjudged::window_open: {
      std::vector<const PendingEvidence*> pending;
      for (const PendingEvidence& p : n.pending) pending.push_back(&p);
      return saw + "; not checked: the run's timeout ended it with " + pending_text(pending) +
             " still to come, which could change this";
    }
    case Unjudged::nothing_on_wire: return saw.empty() ? "nothing on the wire" : saw;
    case Unjudged::counters_not_read:
      return fmt::format("the {}'s kernel counters were not read in this run", subject_side_text(f.check.subject));
    case Unjudged::no_socket_states:
      if (!saw.empty()) return saw;
      if (f.check.kind == CheckKind::timewait) return "no socket observed";
      return fmt::format("no socket states observed for the {}", f.check.kind == CheckKind::socket_held
                                                                      ? held_side(f.check.subject)
                                                                      : subject_side_text(f.check.subject));
    case Unjudged::no_kernel_events:
      if (f.check.kind == CheckKind::reset) return "no kernel tracepoints in this run: a received RST has no word of the kernel's";
      return saw.empty() ? n.detail : saw;
    case Unjudged::closer_unknown:
    case Unjudged::no_kernel_word: return n.detail;
    default: return saw.empty() ? n.detail : saw;
  }
}

// Many connections' results as one: the worst outcome, how many had each, the first one's words.
std::string folded_saw(const Folded& fold, Outcome worst, const std::string& shown_saw) {
  std::size_t worst_count = 0;
  std::vector<std::string> tally;  // "997 pass, 3 fail": only when the outcomes differ
  for (const auto& [o, n] : fold.tally) {
    tally.push_back(fmt::format("{} {}", n, outcome_key(o)));
    if (o == worst) worst_count = n;
  }
  return fmt::format("{} of {} connections {}{}; connection {}: {}", worst_count, fold.connections, outcome_key(worst),
                     tally.size() > 1 ? " (" + join(tally, ", ") + ")" : "", fold.shown.value, shown_saw);
}

}  // namespace

std::string check_name(const Finding& f) {
  std::string name = base_name(f);
  if (f.folded) return name + fmt::format(" on each of {} connections", f.folded->connections);
  if (f.check.on_connection) name += fmt::format(" on connection {}", f.check.on_connection->value);
  return name;
}

std::string expected_words(const Finding& f) {
  return std::visit(
      [&f](const auto& c) -> std::string {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, InvariantClaim>)
          return f.check.kind == CheckKind::command_exit || f.check.kind == CheckKind::command_ended ||
                         f.check.kind == CheckKind::function_ended
                     ? end_expected(f)
                     : std::string(builtin_words(f.check.kind).expected);
        else if constexpr (std::is_same_v<T, FinishClaim>)
          return fmt::format("both agents done within {} ms", c.timeout.count());
        else if constexpr (std::is_same_v<T, CountClaim>)
          return count_expected(f, c);
        else if constexpr (std::is_same_v<T, RetransmitClaim>)
          return retransmit_expected(f, c);
        else if constexpr (std::is_same_v<T, AppClaim>)
          return c.commands ? command_expected(f, c) : app_expected(f.check.subject, c);
        else if constexpr (std::is_same_v<T, TimeWaitClaim>)
          return timewait_expected(c);
        else if constexpr (std::is_same_v<T, HeldClaim>)
          return held_expected(f.check.subject, c);
        else
          return fmt::format("the {}'s socket {}", subject_side_text(f.check.subject), join(state_wants(c), " and "));
      },
      f.expected);
}

void render_words(CheckResult& r) {
  const Finding& f = r.finding;
  r.name = check_name(f);
  r.expected = expected_words(f);
  r.saw = seen_words(f, r.outcome);
  if (f.why_not) r.saw = with_why_not(f, std::move(r.saw), *f.why_not);
  if (f.folded) {
    r.expected = "on every connection: " + r.expected;
    r.saw = folded_saw(*f.folded, r.outcome, r.saw);
  }
}

CheckResult judged(Finding finding, Outcome outcome, std::size_t line) {
  CheckResult r;
  r.builtin = is_builtin(finding.check.kind);
  r.outcome = outcome;
  r.line = line;
  r.finding = std::move(finding);
  render_words(r);
  return r;
}

}  // namespace lastack
