#pragma once
// What the built-in invariants saw, typed (lastack/finding.hpp holds the rest): the backoff of
// timer retransmissions, SYN and FIN sequence space, dropped segments sent again, legal state
// changes, who enters TIME_WAIT, bytes delivered, and the sources agreeing.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lastack/clock.hpp"
#include "lastack/connection_number.hpp"
#include "lastack/finding_endpoints.hpp"
#include "lastack/per_side.hpp"
#include "lastack/roles.hpp"
#include "lastack/tcp_state.hpp"
#include "lastack/timing_bound.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// Which socket held a state in a socket's path (the kernel's three kinds), or that the wire alone drew it.
enum class StateKnown : std::uint8_t {
  observed,         // a full socket's state
  timewait_socket,  // a timewait socket's (the full socket's close handed over to it, or a sample of it)
  inferred,         // drawn from the wire only: shown, never evidence
  request_socket,   // a request socket's SYN_RECV, before its child (the full socket) existed
};

/// What a state in a path rests on.
enum class PathEvidence : std::uint8_t { traced, sampled, handover, inferred };

/// One state a socket was in.
struct PathStep {
  TcpState state = TcpState::CLOSE;
  StateKnown known = StateKnown::observed;
  PathEvidence evidence = PathEvidence::sampled;
  bool from_wire = false;  // its start is a SYN's or FIN's arrival on the wire, before the kernel's evidence
  bool operator==(const PathStep&) const = default;
};

// ---- retransmission-backoff ----

/// The rule a timer retransmission's gap was judged by.
enum class BackoffRule : std::uint8_t {
  doubled,       // traced: the kernel's RTO doubled
  doubled_gap,   // from the gaps: double the gap before
  capped,        // doubling capped at tcp_rto_max_ms
  syn_linear,    // traced: an active open's RTO kept (tcp_syn_linear_timeouts)
  syn_linear_gap,  // from the gaps: equal to the gap before (tcp_syn_linear_timeouts)
  thin_linear,   // traced: a thin stream's RTO kept (tcp_thin_linear_timeouts)
  thin_maybe,    // from the gaps: a thin stream may keep its RTO (tcp_thin_linear_timeouts)
};

/// A rule with the settings it names.
struct BackoffRuleUsed {
  BackoffRule rule = BackoffRule::doubled;
  std::size_t gap = 1;           // doubled_gap, syn_linear_gap: the 1-based gap it is measured against
  std::int64_t syn_linear = 0;   // tcp_syn_linear_timeouts
  Duration rto_max{};            // tcp_rto_max_ms
  bool operator==(const BackoffRuleUsed&) const = default;
};

/// How a gap broke its rule.
enum class BackoffMiss : std::uint8_t {
  gap,              // the gap lay outside the bound around the rule's value
  kept_rto,         // traced: the kernel kept its RTO where its settings do not allow
  rto_not_doubled,  // traced: the kernel's RTO moved otherwise than the rule says
};
struct BackoffProblem {
  BackoffMiss miss = BackoffMiss::gap;
  BackoffRuleUsed rule;
  std::size_t gap = 2;          // 1-based: the gap (kept_rto: the retransmission) judged
  Duration measured{};          // gap: the gap seen; traced: the kernel's RTO
  Duration nominal{};           // gap: the rule's value; rto_not_doubled: the RTO doubled
  Duration previous{};          // rto_not_doubled: the RTO before
  std::uint32_t backoff = 0;    // kept_rto: the kernel's backoff count
  TimingBound bound;            // gap: what it was allowed
  bool operator==(const BackoffProblem&) const = default;
};

/// One segment's timer retransmissions, as judged.
struct BackoffChain {
  WireEvent first;
  std::vector<Duration> gaps;                // between consecutive transmissions
  std::vector<RetransmitCause> causes;       // the kernel's, one per retransmission; empty: inferred
  bool probe_first = false;                  // inferred: the first was a tail-loss probe
  std::uint32_t syn_linear = 0;              // an active open: tcp_syn_linear_timeouts (0: not one)
  std::optional<Duration> rto_max;           // tcp_rto_max_ms, when not the default
  std::optional<BackoffProblem> problem;
  bool operator==(const BackoffChain&) const = default;
};

/// The chains whose gaps were judged: those that broke their rule and those that kept it.
struct BackoffSeen {
  std::vector<BackoffChain> broken, kept;
  bool operator==(const BackoffSeen&) const = default;
};

// ---- syn-fin-consume-seq ----

/// How a SYN or FIN was answered otherwise than at seq + len + 1.
enum class ControlMiss : std::uint8_t {
  ack,        // the peer acknowledged another number
  short_ack,  // the peer acknowledged seq + len: the control consumed no sequence number
  next,       // the sender's next segment started elsewhere
};
struct ControlProblem {
  WireEvent control;
  ControlMiss miss = ControlMiss::ack;
  std::uint32_t saw = 0;  // the relative ack (ack, short_ack) or seq (next)
  bool operator==(const ControlProblem&) const = default;
};

/// The SYNs and FINs on the wire (each sequence number once) and how they were answered.
struct ControlsSeen {
  std::size_t controls = 0;
  std::size_t unanswered = 0;    // neither acknowledged nor followed by its sender on the wire
  std::size_t acknowledged = 0;  // acknowledged at seq + len + 1
  std::optional<WireEvent> last_acknowledged, last_ack;  // the last of them and its acknowledgment
  std::vector<ControlProblem> problems;
  bool operator==(const ControlsSeen&) const = default;
};

// ---- dropped-is-retransmitted ----

/// What followed a dropped segment carrying sequence space.
enum class DropEnd : std::uint8_t {
  resent,        // its sender sent it again
  reset,         // not resent: the connection was reset
  timed_out,     // not resent: the sender gave up
  acknowledged,  // not resent: the peer's ACK covered it before it was due (an earlier copy had arrived)
  trace_ended,   // not judged: the trace ended before its next retransmission was due
  never_resent,  // never resent though it was due
};
struct DropSeen {
  WireEvent segment;
  DropEnd end = DropEnd::resent;
  Duration after{};     // resent: from the drop to the resend; acknowledged: to the ACK's arrival;
                        // trace_ended, never_resent: to the trace's end
  Duration due{};       // trace_ended: from the drop to when the next retransmission was due
  std::optional<Duration> rto;  // never_resent: the sender's RTO
  std::uint32_t ack = 0;        // acknowledged: the peer's ack, relative to the sender's ISN
  bool operator==(const DropSeen&) const = default;
};
struct DropsSeen {
  std::vector<DropSeen> drops;
  bool operator==(const DropsSeen&) const = default;
};

// ---- legal-states, timewait-only-active-closers ----

/// What a socket is: a connection's, a listener, a request socket.
enum class SocketKind : std::uint8_t { connection, listener, request };

/// One socket and its states.
struct SocketStates {
  Side side = Side::client;
  SocketKind kind = SocketKind::connection;
  std::uint16_t local_port = 0, remote_port = 0;
  std::vector<PathStep> steps;
  bool operator==(const SocketStates&) const = default;
};

/// How a state change broke the TCP state diagram.
enum class StepMiss : std::uint8_t {
  not_a_step,    // traced: not a step of the diagram
  unreachable,   // sampled: no path of the diagram leads there
  between,       // sampled: reachable, but the states between were not seen (not judged)
};
struct StepProblem {
  std::size_t socket = 0;  // into LegalStatesSeen::sockets
  TcpState from = TcpState::CLOSE, to = TcpState::CLOSE;
  StepMiss miss = StepMiss::not_a_step;
  bool operator==(const StepProblem&) const = default;
};

/// The sockets' state changes, those that broke the diagram, and sockets off the wire (not judged).
struct LegalStatesSeen {
  std::vector<SocketStates> sockets, apart;
  std::vector<StepProblem> problems;
  bool operator==(const LegalStatesSeen&) const = default;
};

/// Which part a side played in a close, by its kernel's states (a FIN on the wire, when they say none).
enum class CloseTurn : std::uint8_t { first, second, sent_fin, no_fin };

/// How a side's socket ended, when the kernel said it ended otherwise than by closing.
enum class CloseEnd : std::uint8_t { closed, timewait_skipped, error, reset };

/// One side of a connection's close (timewait-only-active-closers).
struct SideCloseSeen {
  Side side = Side::client;
  CloseTurn turn = CloseTurn::no_fin;
  Entered timewait = Entered::no;
  std::string unknown;  // timewait unknown: why, in the trace queries' words
  std::vector<TcpState> path;  // its sockets' observed states
  CloseEnd end = CloseEnd::closed;
  int error = 0;  // CloseEnd::error: the kernel's sk_err
  bool operator==(const SideCloseSeen&) const = default;
};
struct ConnectionCloseSeen {
  ConnectionNumber connection;
  PerSide<SideCloseSeen> sides;
  bool operator==(const ConnectionCloseSeen&) const = default;
};
struct ClosersSeen {
  std::vector<ConnectionCloseSeen> connections;
  bool numbered = false;  // several connections: each named
  bool operator==(const ClosersSeen&) const = default;
};

// ---- bytes-delivered ----

/// Bytes an app read that are not lastack's pattern of its peer, and whose they say they are.
struct CorruptedRead {
  Side reader = Side::client;
  std::string step;  // as the policy wrote it
  ByteRange range;   // of the reader's stream
  std::optional<PatternOrigin> origin;
  std::optional<ConnectionNumber> connection;  // the connection the origin's stream names, when it names one
  bool operator==(const CorruptedRead&) const = default;
};

/// An agent step that ended in an error.
struct StepFailed {
  Side side = Side::client;
  std::string step, outcome;  // as the app reported them
  bool operator==(const StepFailed&) const = default;
};

/// The bytes each app wrote and read, and what kept them from matching.
struct DeliverySeen {
  bool transfers = false;  // some agent step sent or received
  PerSide<std::uint64_t> wrote, read;
  std::vector<CorruptedRead> corrupted;
  std::vector<StepFailed> errors;
  bool reset = false;           // an RST was on the wire
  bool unverified = false;      // the content of some reads was not verified
  bool stale_expected = false;  // old bytes the policy's app check expects, left to it
  bool operator==(const DeliverySeen&) const = default;
};

// ---- sources-agree ----

/// One fact two sources disagree on.
struct SourcesDisagree {
  Side side = Side::client;
  std::string fact;     // "retransmissions"
  std::string sources;  // the lower layer's words naming both numbers
  // The kernel did more than its observer reported: the observer missed events.
  bool observer_missed = false;
  bool operator==(const SourcesDisagree&) const = default;
};
struct SourcesSeen {
  bool traced = false;         // the kernel's events were traced
  bool counters = false;       // its counters were read
  std::vector<SourcesDisagree> disagree;
  bool operator==(const SourcesSeen&) const = default;
};

}  // namespace lastack
