#pragma once
// What one check of the oracle found, typed: which check, what it expected, what it saw, the
// bound it judged with and why it could not look. Words are rendered from it apart
// (harness/core/oracle/words/), never parsed back.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lastack/clock.hpp"
#include "lastack/finding_endpoints.hpp"
#include "lastack/finding_invariants.hpp"
#include "lastack/timing_bound.hpp"
#include "lastack/pending.hpp"
#include "lastack/policy.hpp"
#include "lastack/roles.hpp"
#include "lastack/side_ref.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// A check's three answers (and a fourth for built-ins that do not apply to the run).
enum class Outcome : std::uint8_t {
  pass,            // it looked, and what it saw is what it expected
  fail,            // it looked, and saw otherwise
  not_checked,     // it could not look (nothing observed, sampling, a mode that cannot see)
  not_applicable,  // a built-in invariant with nothing to judge in this run
};

/// Every check the oracle makes: the built-in invariants, the run's own, each [[expect]] kind.
enum class CheckKind : std::uint8_t {
  run_finished,
  syn_fin_consume_seq,
  dropped_is_retransmitted,
  retransmission_backoff,
  legal_states,
  timewait_only_active_closers,
  bytes_delivered,
  harness_queue_drops,
  harness_errors,
  sources_agree,
  command_exit,     // lastack exec: the client command exits 0 (harness/cli)
  function_ended,   // the in-process API: a side's function returned (harness/engine)
  command_ended,    // lastack wrap: the wrapped command ended by itself, before the run's timeout (harness/cli)
  retransmitted,  // [[expect]] check = "retransmitted" (count 0: "no retransmission of")
  state,
  reset,
  app,
  timewait,
  segments,
  close,
  connections,
  socket_held,
  counter,
};

/// True for the checks every run gets (not a policy's [[expect]]).
constexpr bool is_builtin(CheckKind k) { return k < CheckKind::retransmitted; }

/// What a check is about, as the policy names it: the segment, its sender, the connection.
struct CheckSubject {
  std::optional<Role> segment;             // the segment's role
  std::optional<Role> with;                // a second role it must carry (segments)
  std::optional<SideRef> side;             // the sender or the socket's side, as the policy names it
  std::optional<Side> resolved;            // the side `side` names on this trace; unset while a
                                           // closer is not known (no FIN names it)
  std::optional<ConnectionNumber> connection;   // as the policy numbers connections
  std::string counter;                     // counter: "TcpExt.PAWSEstab", as the kernel spells it
  bool operator==(const CheckSubject&) const = default;
};

/// Which check: its kind and subject, plus the connection a per-connection run judged it on.
struct CheckId {
  CheckKind kind = CheckKind::run_finished;
  CheckSubject subject;
  std::optional<ConnectionNumber> on_connection;  // one connection's slice of the trace
  bool operator==(const CheckId&) const = default;
};


/// Where the nominal gap a check expected came from.
enum class GapSource : std::uint8_t {
  policy,       // after = "200ms": the policy's own number
  sender_rto,   // after = "rto": the RTO the sender's samples showed
  rto_min,      // after = "rto", but no RTO sampled: TCP_RTO_MIN assumed
};

/// A gap expected: its nominal value and where that came from.
struct GapClaim {
  Duration nominal{};
  GapSource source = GapSource::policy;
  bool operator==(const GapClaim&) const = default;
};

// ---- what a check expected ----

/// A built-in invariant: what it claims is fixed by its kind.
struct InvariantClaim {
  bool operator==(const InvariantClaim&) const = default;
};

/// The run ends on its own, within the scenario's timeout.
struct FinishClaim {
  Millis timeout{};
  bool operator==(const FinishClaim&) const = default;
};

/// A count within a bound: segments, RSTs, connections, a counter's change, a close's length.
struct CountClaim {
  CountBound<std::int64_t> bound;
  bool injected_too = false;  // reset: lastack's injected RSTs count as well
  bool accepted = false;      // reset: RSTs the subject's kernel accepted (received-by), not sent
  bool operator==(const CountClaim&) const = default;
};

/// The first segment a selector names retransmitted: how often, after what gap, backing off.
struct RetransmitClaim {
  std::optional<std::uint32_t> count;  // exact (0: never); unset: at least once
  std::optional<GapClaim> first_gap;   // unset: any gap
  bool backoff = false;                // each later gap about double the one before
  bool operator==(const RetransmitClaim&) const = default;
};

/// A side's socket states.
struct StateClaim {
  std::optional<TcpState> reaches, ends_in, never;
  bool operator==(const StateClaim&) const = default;
};

using Expected =
    std::variant<InvariantClaim, FinishClaim, CountClaim, RetransmitClaim, StateClaim, HeldClaim, TimeWaitClaim,
                 AppClaim>;

// ---- what a check saw ----

/// Nothing: the check had nothing to look at (its reason says why).
struct NothingSeen {
  bool operator==(const NothingSeen&) const = default;
};

/// A count, with the segments that made it (segments, reset).
struct SegmentsSeen {
  std::vector<WireEvent> matched;
  std::size_t injected_ignored = 0;  // reset: lastack's own RSTs, not counted
  bool operator==(const SegmentsSeen&) const = default;
};

/// One problem with a retransmission chain's timing.
struct GapProblem {
  std::size_t gap = 1;        // 1-based: the first gap, or a backoff gap
  Duration measured{};        // the gap seen
  Duration nominal{};         // the gap it should be near
  TimingBound bound;          // what it was allowed
  bool operator==(const GapProblem&) const = default;
};

/// A segment and its retransmissions (retransmitted).
struct RetransmissionsSeen {
  WireEvent original;
  std::vector<WireEvent> again;         // the retransmissions, in order
  std::vector<Duration> gaps;           // between consecutive transmissions
  std::size_t probes = 0;               // leading tail-loss probes
  bool probes_inferred = true;          // from the gaps, not the kernel's own cause
  std::optional<std::chrono::microseconds> rto;  // the RTO the first timer ran with
  std::optional<Instant> timer_restarted;  // an ACK of new data re-armed the timer then (first gap judged)
  std::optional<Instant> kernel_armed;     // the kernel says it armed the timer then, when not as the wire shows
  std::optional<Duration> first_gap;             // from when the timer started, when judged
  std::vector<GapProblem> problems;              // first gap (gap 1) and backoff problems
  bool backoff_too_short = false;                // fewer than two timer retransmissions
  bool operator==(const RetransmissionsSeen&) const = default;
};

/// A connection on the wire (connections).
struct ConnectionSeen {
  ConnectionNumber number;
  std::uint16_t client_port = 0;
  std::size_t segments = 0;
  bool operator==(const ConnectionSeen&) const = default;
};
struct ConnectionsSeen {
  std::vector<ConnectionSeen> connections;
  bool operator==(const ConnectionsSeen&) const = default;
};

/// One connection's close, from the first FIN through the first final-ack (close).
struct CloseSeen {
  ConnectionNumber connection;
  std::vector<WireEvent> segments;
  bool completed = false;
  // Pure ACKs of data sent before the FIN, left out: on a long path ([link]) they cross the FIN.
  std::size_t data_acks = 0;
  bool operator==(const CloseSeen&) const = default;
};
struct ClosesSeen {
  std::vector<CloseSeen> closes;
  bool numbered = false;  // name each close's connection
  std::optional<ConnectionNumber> missing;  // the connection the policy named was not on the wire
  bool operator==(const ClosesSeen&) const = default;
};

/// A kernel counter's change over the run (counter).
struct CounterSeen {
  std::int64_t delta = 0;
  bool unlisted = false;              // IcmpMsg: the kernel lists a type only once counted
  bool missing = false;               // no such counter in its file
  std::optional<std::string> other_case;  // the name the kernel has in another case
  bool operator==(const CounterSeen&) const = default;
};

/// One socket's states, in order (state).
struct SocketPath {
  std::uint16_t local_port = 0;
  std::vector<PathStep> steps;
  bool operator==(const SocketPath&) const = default;
};

/// How a side's sockets broke a state claim.
enum class StateMiss : std::uint8_t { never_reached, ended_in, entered };
struct StateProblem {
  StateMiss miss = StateMiss::never_reached;
  TcpState state = TcpState::CLOSE;  // the state never reached, ended in, or entered
  bool operator==(const StateProblem&) const = default;
};

/// A side's sockets' paths, and what broke the claim (state).
struct StatesSeen {
  std::vector<SocketPath> sockets;
  std::vector<StateProblem> problems;
  std::vector<std::string> unknowns;  // why a state could not be known, in the trace queries' words
  bool operator==(const StatesSeen&) const = default;
};

/// A harness's own count: segments lost at the queue, errors the lab logged.
struct HarnessSeen {
  std::uint64_t count = 0;
  std::string first;  // the first error as the lab logged it
  bool operator==(const HarnessSeen&) const = default;
};

/// A connection the policy named that the wire never showed (per-connection checks).
struct ConnectionMissing {
  ConnectionNumber connection;
  std::size_t on_wire = 0;     // how many connections the wire showed
  bool operator==(const ConnectionMissing&) const = default;
};

/// The RSTs a side's kernel accepted (reset, received-by): tcp_receive_reset's events.
struct ResetsAccepted {
  std::vector<KernelReset> accepted;
  bool operator==(const ResetsAccepted&) const = default;
};

/// How a program of the user's ended (command-exit, function-ended): its event, unset when it never did.
struct EndSeen {
  std::optional<AppEvent> ended;
  bool timed_out = false;  // the run's timeout came first: lastack ended the program
  bool operator==(const EndSeen&) const = default;
};

using Observed = std::variant<NothingSeen, SegmentsSeen, RetransmissionsSeen, ConnectionsSeen, ClosesSeen, CounterSeen,
                              StatesSeen, HoldsSeen, TimeWaitSeen, AppSeen, CommandSeen, HarnessSeen,
                              ConnectionMissing, ResetsAccepted, EndSeen, BackoffSeen, ControlsSeen, DropsSeen,
                              LegalStatesSeen, ClosersSeen, DeliverySeen, SourcesSeen>;

// ---- why a check could not look ----

/// Why a check could not judge (its outcome not-checked or not-applicable).
enum class Unjudged : std::uint8_t {
  nothing_on_wire,        // no segment (or no connection) on the wire
  no_kernel_word,         // the kernel did not name its retransmissions: only inferred
  counters_not_read,      // the side's kernel counters were not read
  closer_unknown,         // no FIN names the first closer
  window_open,            // the run's timeout cut it short with evidence still to come
  out_of_reach,           // app stale-from: no old bytes could have come (`detail`: why), its precondition failed
  no_socket_states,       // no socket states observed
  no_kernel_events,       // no kernel tracepoints in this run: only the kernel's events could tell
  unanswered,             // nothing on the wire answered what it judges (a SYN or FIN neither acknowledged nor followed)
  between_samples,        // sampling could have missed the states it judges
  trace_ended,            // the trace ended before what it judges was due
  timewait_unknown,       // whether a side entered TIME_WAIT is not known (the finding says why)
  intervened,             // a reset or an app's error came between (bytes-delivered)
  unverified,             // the content of some reads was not verified
  no_command,             // no command ended, or it kept no output: nothing of it to judge
  nothing_to_judge,       // a built-in invariant with nothing to judge in this run
  other,                  // told in `detail`
};

/// Why a check could not look, with what it knows of why.
struct NotChecked {
  Unjudged reason = Unjudged::other;
  std::string detail;                    // the lower layer's words ("the wire names them ...")
  std::vector<PendingEvidence> pending;  // window_open: what was still to come
  bool operator==(const NotChecked&) const = default;
};

/// Many connections' findings of one check folded into one (per_connection.hpp).
struct Folded {
  std::size_t connections = 0;
  std::vector<std::pair<Outcome, std::size_t>> tally;  // outcome -> how many connections had it
  ConnectionNumber shown;                              // the connection whose finding is shown
  bool operator==(const Folded&) const = default;
};

/// One check's finding.
struct Finding {
  CheckId check;
  Expected expected;
  Observed saw;
  std::optional<TimingBound> bound;   // the bound a gap was judged with (its parts: where it came from)
  std::optional<NotChecked> why_not;  // set when it could not look (or not fully)
  std::optional<Folded> folded;       // set when it stands for many connections
  bool operator==(const Finding&) const = default;
};

}  // namespace lastack
