#pragma once
// The trace model: one ordered log of everything a run observed (wire, kernel, apps, lab).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lastack/clock.hpp"
#include "lastack/flow_tracker.hpp"
#include "lastack/netstat.hpp"
#include "lastack/pending.hpp"
#include "lastack/per_side.hpp"
#include "lastack/policy.hpp"
#include "lastack/segment.hpp"
#include "lastack/tcp_state.hpp"

namespace lastack {

/// Where a run's kernel truth came from.
enum class KernelSource : std::uint8_t { traced, sampled };
/// The note every report carries when states were sampled.
inline constexpr std::string_view sampling_note =
    "states sampled every 2 ms; short states may be missed";

/// What finally happened to a queued segment.
enum class Fate : std::uint8_t { passed, dropped, delayed, held, duplicated };
/// "passed", "dropped", ...
std::string_view fate_name(Fate f);

/// One draw a probabilistic fault made for a segment its counting picked (decide/random_draw).
struct FaultDraw {
  std::size_t fault = 0;       // index into Policy::faults
  std::size_t line = 0;        // where its [[fault]] table starts
  std::uint64_t match = 0;     // the segment's match number under the fault (nth counts these)
  double probability = 1;      // the fault's P
  double value = 0;            // the draw, in [0, 1)
  bool fired = false;          // value < probability: the fault acted on the segment
  bool operator==(const FaultDraw&) const = default;
};

/// Why the [link] dropped a segment (decide/link_model).
enum class LinkDrop : std::uint8_t {
  none,
  loss,       // its `loss` draw came below the probability
  queue_full, // the rate's queue had no room for it
  held_limit, // the interceptor already held as many segments as the kernel's queue allows
};
/// "lost", "queue full", ...
std::string_view link_drop_name(LinkDrop d);

/// What the [link] did to one segment: its schedule and its draws (on the run's seed).
struct LinkPassage {
  Instant due{};                       // when the schedule lets it go (WireEvent::released: when it went)
  Duration queued{};                   // behind the rate: waiting, and its own transmission
  Duration delay{};                    // latency and jitter (as drawn)
  LinkDrop drop = LinkDrop::none;
  bool duplicated = false;             // a copy follows it (injected as it is released)
  bool reorder = false;                // the link may reorder this direction (reorder = true)
  std::optional<double> loss_draw, duplicate_draw, jitter_draw;  // each in [0, 1), when drawn
  bool operator==(const LinkPassage&) const = default;
};

/// Wire truth: one segment that crossed `wire`. From a run, times are the packet capture's
/// kernel timestamps (see Trace::whole_wire); the interceptor's log adds fates to queued ones.
struct WireEvent {
  Instant at{};                          // when it entered wire (injected: when it left)
  std::optional<Instant> delivered_at;   // when it left wire toward its receiver; none: dropped (or not captured)
  std::optional<Instant> released;       // delayed/held: when the interceptor let it go (userspace time)
  std::uint64_t packet = 0;          // the interceptor's id (0 for injected or not queued segments)
  bool queued = false;               // it went through the interceptor (false: no queue rule selected it)
  bool injected = false;             // made by lastack (a [[lab]] action), not sent by an endpoint
  Segment segment;
  Classified info;                   // connection, sender, roles, relative seq/ack
  Fate fate = Fate::passed;
  std::optional<std::size_t> fault;  // index into Policy::faults that acted on it
  std::string note;                  // "dropped by fault 1: final-ack"
  std::vector<FaultDraw> draws;      // probabilistic faults' draws for it, in rule order
  std::optional<LinkPassage> link;   // the [link]'s schedule for it (none: no link, or not queued)
  std::vector<std::uint8_t> bytes;   // the IP packet's start: its IP and TCP headers from the capture,
                                     // its first 128 bytes from the interceptor (payload as far as that)
  std::uint32_t wire_length = 0;     // the packet's real length (> bytes.size() when cut)
};

/// sock_diag's idiag_timer values.
enum class SocketTimer : std::uint8_t { none = 0, retransmit = 1, keepalive = 2, time_wait = 3, probe = 4 };

/// The kernel's name for one socket (its cookie: sock_diag's idiag_cookie, BPF's
/// bpf_get_socket_cookie). A timewait socket keeps its full socket's cookie; a request socket has
/// its own, and so does the full socket it becomes. 0: not known (traces from before cookies).
using SocketCookie = std::uint64_t;

/// Kernel truth: a socket's state or timer changed (sampled with sock_diag).
struct SocketEvent {
  Instant at{};
  Side side = Side::client;           // namespace the socket lives in
  std::optional<ConnectionIndex> connection;
  std::uint16_t local_port = 0, remote_port = 0;
  TcpState state = TcpState::CLOSE;   // CLOSE: the socket is gone
  SocketTimer timer = SocketTimer::none;
  Millis expires{0};                  // time left on `timer`
  std::uint8_t retransmits = 0;       // idiag_retrans / tcpi_retransmits
  std::uint32_t total_retrans = 0;    // tcpi_total_retrans (0 in TIME_WAIT: no tcp_info)
  std::chrono::microseconds rto{0};   // tcpi_rto (0 in TIME_WAIT)
  std::chrono::microseconds rtt{0};   // tcpi_rtt: the kernel's smoothed RTT (0 in TIME_WAIT, or not recorded)
  SocketCookie cookie = 0;
};

/// One sock_diag sample of one side's sockets: the dump was asked for at `start` and its answer
/// read by `end`, so each socket it shows was in that state at some moment between the two.
struct SocketSample {
  Instant start{}, end{};
};

/// Kernel truth, exact: a full socket changed state (tracepoint sock:inet_sock_set_state,
/// read by the BPF observer). TIME_WAIT and an orphan's FIN_WAIT_2 are timewait sockets that no
/// tracepoint reports: those still come from sock_diag (SocketEvent).
struct StateChange {
  Instant at{};                          // the kernel's CLOCK_MONOTONIC, on the run's clock
  Side side = Side::client;              // namespace the socket lives in
  std::optional<ConnectionIndex> connection;
  std::uint16_t local_port = 0, remote_port = 0;
  TcpState from = TcpState::CLOSE, to = TcpState::CLOSE;
  SocketCookie cookie = 0;
  // What the socket's own fields said at the change (traced runs; traces from before say
  // nothing: nullopt). A close's cause: sk_err (ETIMEDOUT: a timer gave up; ECONNRESET,
  // EPIPE: a reset; ECONNABORTED: destroyed; 0: none), and whether tcp_fin had accepted the
  // peer's FIN (SOCK_DONE) and the application had closed the socket (SOCK_DEAD).
  // Its sequence numbers then (snd_una: its ISN until the SYN is acknowledged; rcv_nxt: the
  // peer's ISN + 1 once its SYN arrived, else 0) name the wire connection it belongs to.
  struct Facts {
    int error = 0;
    bool peer_fin = false;
    bool orphan = false;
    std::uint32_t snd_una = 0, rcv_nxt = 0;
    bool operator==(const Facts&) const = default;
  };
  std::optional<Facts> facts;
};

/// Why the kernel sent sequence space again, as its own timer state said at that moment.
enum class RetransmitCause : std::uint8_t {
  rto,         // the retransmission timer fired (icsk_pending cleared by tcp_retransmit_timer)
  loss_probe,  // a tail-loss probe (ICSK_TIME_LOSS_PROBE pending)
  fast,        // from ACK processing: fast retransmit, SACK recovery, RACK
  synack,      // a request socket's SYN-ACK timer (tcp:tcp_retransmit_synack)
};
/// "rto", "loss-probe", "fast", "synack".
std::string_view retransmit_cause_name(RetransmitCause c);

/// Kernel truth, exact: one retransmission (tcp:tcp_retransmit_skb, tcp:tcp_retransmit_synack).
struct KernelRetransmit {
  Instant at{};
  Side side = Side::client;
  std::optional<ConnectionIndex> connection;
  std::uint16_t local_port = 0, remote_port = 0;
  TcpState state = TcpState::CLOSE;       // the socket's state when it retransmitted
  SeqNum seq;                             // first sequence number resent (the SYN-ACK's ISN)
  // One skb may resend several segments (TCP builds GSO skbs): how many, and the sequence space
  // they cover from `seq` (0 when one segment: its length is the wire's). Tcp.RetransSegs counts each.
  std::uint16_t segments = 1;
  std::uint32_t length = 0;
  RetransmitCause cause = RetransmitCause::rto;
  std::chrono::microseconds rto{0};       // icsk_rto at that moment (before any backoff step)
  std::uint8_t backoff = 0;               // icsk_backoff at that moment
  // How long after its timer's expiry the kernel ran this retransmission (whole jiffies: the
  // timer wheel's tick and a busy host's softirq delay). nullopt: not the timer's doing, or not read.
  std::optional<std::chrono::microseconds> timer_late;
  int error = 0;                          // the transmit's result: 0 it left, else it never did
  SocketCookie cookie = 0;                // the request socket's own for a SYN-ACK
};

/// Kernel truth, exact: a RST the kernel sent (tcp:tcp_send_reset) or accepted (tcp:tcp_receive_reset).
struct KernelReset {
  Instant at{};
  Side side = Side::client;
  std::optional<ConnectionIndex> connection;
  std::uint16_t local_port = 0, remote_port = 0;
  TcpState state = TcpState::CLOSE;  // CLOSE when no full socket sent it (a reply to a stray segment)
  bool sent = true;                  // false: received and accepted
  SocketCookie cookie = 0;           // 0: no socket sent it (a reply to a stray segment)
  // Sent by a timewait socket: its substate then (TIME_WAIT or FIN_WAIT2), the kernel's word
  // that the socket was in it.
  std::optional<TcpState> timewait_substate;
};

/// How an agent step ended.
enum class StepResult : std::uint8_t {
  ok,       // it did what the policy meant (recv-until-eof: see eof)
  eof,      // the peer's FIN: end of stream
  error,    // a system error: AppEvent::error holds the errno (0: not an errno, see the text)
  aborted,  // the run ended while the step was pending
  unsupported,  // the step cannot run here (an in-process agent asked to `exit`)
};

/// "ok", "eof", "error", "aborted", "unsupported".
std::string_view step_result_name(StepResult r);
/// The reverse of step_result_name; nullopt for anything else.
std::optional<StepResult> step_result_from_name(std::string_view name);

/// A range of stream offsets, [begin, end).
struct ByteRange {
  std::uint64_t begin = 0, end = 0;
  bool operator==(const ByteRange&) const = default;
};

/// Where corrupted bytes say they came from, decoded from lastack's byte pattern.
struct PatternOrigin {
  Side side = Side::client;   // the side whose agent wrote them
  // The stream tag the writer put in them (byte_pattern): its own count of its connections from
  // 0, or, for a copy of `connections = N`, the client's port. Not a trace index by itself: see
  // pattern_connection (oracle) for when it names one.
  std::uint32_t stream = 0;
  std::uint64_t offset = 0;   // the stream offset they were written at (for ByteRange::begin)
  bool operator==(const PatternOrigin&) const = default;
};

/// What only an agent step has: the policy step it ran and, for a read, what the bytes were.
struct AgentStepFacts {
  StepKind kind = StepKind::connect;
  // recv: the first range of stream offsets whose bytes were not lastack's pattern of the peer,
  // and where they claim to be from when the pattern there decodes.
  std::optional<ByteRange> corrupted;
  std::optional<PatternOrigin> corrupted_from;
  bool verified = false;  // recv: the bytes read were checked against the pattern
};

/// What only a program of the user's has: lastack exec's command (how it ended, what it printed)
/// or an in-process function (which has no exit status).
struct CommandFacts {
  std::optional<int> exit_status;    // exec: its exit code; 128 + N when signal N ended it
  std::vector<std::string> output;   // its stdout and stderr lines, in order, without the newline
  bool output_truncated = false;     // it printed more than app_output_limit bytes: the rest is not kept
};

/// App truth: one agent step, or how a program of the user's ended, and its outcome.
struct AppEvent {
  Instant at{};
  Side side = Side::client;
  std::string step;        // as written in the policy: "send 1000" (display only)
  std::string outcome;     // "ok", "eof", "ECONNRESET", "exit 0" (display only)
  std::uint64_t bytes = 0; // moved by this step
  StepResult result = StepResult::ok;
  int error = 0;                        // errno, when result is error
  std::variant<CommandFacts, AgentStepFacts> facts;

  /// The agent step's own facts; nullptr for a program of the user's.
  const AgentStepFacts* agent_step() const { return std::get_if<AgentStepFacts>(&facts); }
  AgentStepFacts* agent_step() { return std::get_if<AgentStepFacts>(&facts); }
  /// The program's own facts; nullptr for an agent step.
  const CommandFacts* command() const { return std::get_if<CommandFacts>(&facts); }
  CommandFacts* command() { return std::get_if<CommandFacts>(&facts); }
};

/// How much of a command's output an AppEvent keeps (lines, newlines counted).
inline constexpr std::size_t app_output_limit = 64 * 1024;

/// What a LabEvent records; the oracle reads the kind and side, never the text.
enum class LabEventKind : std::uint8_t {
  note,                // anything else worth a line on the ladder
  timeout,             // the run did not finish in time
  timewait_destroyed,  // a lab action SOCK_DESTROYed `side`'s TIME_WAIT sockets (`count`)
  harness_error,       // the lab misbehaved (unparseable queued packet, verdict error, overrun,
                       // capture drop, a segment the capture and the interceptor disagree on):
                       // the run proves nothing and ends with exit 4
  observer_missed,     // a harness error of the kernel observer's own: it reported fewer events than
                       // the kernel made (ring full, program skipped, records unread)
  window_opened,       // fault `fault`'s window opened (decide/fault_window)
  window_closed,       // ... and closed
  // A test's control request (`lastack exec|wrap --control`), at the moment the run applied it:
  fault_added,         // fault `fault` added: on from now (LabEvent::request: what was asked)
  fault_removed,       // fault `fault` removed: off from now
  link_set,            // the [link] set to what `request` gives, from now
  mark,                // the test's own line (`what`)
};

/// Why the lab's record cannot be trusted: the cause of a harness error, one per way it can fail.
enum class HarnessCause : std::uint8_t {
  capture_lost,           // the packet capture lost frames: the wire is incomplete
  wire_disagrees,         // the capture and the interceptor disagree on a segment
  wire_reordered,         // the harness let a queued segment overtake another
  unparsable_packet,      // a queued packet the interceptor could not parse (dropped)
  verdict_refused,        // the kernel refused an NFQUEUE verdict
  queue_overflow,         // the NFQUEUE socket overflowed: packets lost to the interceptor
  fault_not_carried_out,  // a fault the policy asked for could not be carried out
  observer_missed,        // the kernel observer reported fewer events than the kernel made
  sources_disagree,       // two sources (events, counters, wire) disagree on a fact
};

/// Something the lab did or noticed: a lab action, a harness warning.
struct LabEvent {
  Instant at{};
  std::string what;                       // in words, for the ladder
  LabEventKind kind = LabEventKind::note;
  std::optional<Side> side;
  std::uint64_t count = 0;
  std::optional<HarnessCause> cause;      // set for harness_error and observer_missed
  std::optional<std::size_t> fault;       // window_opened/closed: index into Policy::faults;
                                          // fault_added/removed: into the run's faults (the policy's, then added ones)
  // A control event's request as the test sent it (one JSON object, keys sorted); empty otherwise.
  std::string request;
};

using TraceEvent = std::variant<WireEvent, SocketEvent, StateChange, KernelRetransmit,
                                KernelReset, AppEvent, LabEvent>;

/// The time of any event.
Instant event_time(const TraceEvent& e);

/// Everything one run produced, in time order, plus the settings it ran with.
struct Trace {
  std::string policy;
  bool ipv6 = false;
  std::string kernel;                                        // uname -r
  std::optional<std::uint64_t> random_seed;  // the run's seed (probabilistic faults); unset: none
  // The [link] the run carried (the policy's, or --link over it), as it ran; unset: none. Each
  // segment's passage (WireEvent::link) is what it did: a replay reads both, never draws again.
  std::optional<Link> link;
  PerSide<std::map<std::string, std::string>> sysctls;  // values in force
  std::vector<TraceEvent> events;
  std::uint64_t queue_drops = 0;
  bool every_segment = true;  // every TCP segment was queued; false: only those a rule could select
  // The wire events come from the packet capture in wire: every segment, queued or not, at its
  // kernel ingress time. false: only what the interceptor queued (older traces, unit tests).
  bool whole_wire = false;
  // Where kernel states came from: traced (BPF tracepoints, exact) or sampled (sock_diag every
  // 2 ms, which can miss a short state: checks that depend on it say "not checked").
  KernelSource kernel_source = KernelSource::sampled;
  // How often sock_diag was asked to sample (the pace it aims at; SocketEvent times are sample
  // starts).
  std::chrono::microseconds sample_interval{2000};
  // Every sample sock_diag took of each side, changes or not, in time order: what a sampled
  // state's uncertainty is judged from (a loaded host samples far less often than it asks to).
  // Empty: not recorded (older traces, hand-made ones): the checks assume the asked-for pace.
  PerSide<std::vector<SocketSample>> samples;
  // Each side's last sample lists every socket it showed, changed or not: a socket it does not
  // list was gone by then. false: older traces, whose last sample lists changes only.
  bool final_sample_lists_all = false;
  // TcpExtTCPTimeWaitOverflow in each endpoint namespace at the end of the run: a TIME_WAIT the
  // kernel skipped. nullopt: not read.
  PerSide<std::optional<std::uint64_t>> timewait_overflow;
  // Each endpoint namespace's kernel counters (/proc/net/snmp and /proc/net/netstat, read from a
  // thread inside it): their change from before the agents started to run_end (the teardown's
  // own segments are left out, as on the wire). Every counter, unchanged ones too. nullopt: not
  // read (an older trace, or the files could not be read).
  PerSide<std::optional<CounterDeltas>> counters;
  std::chrono::sys_time<std::chrono::nanoseconds> wall_start{};  // wall-clock time of Instant 0
  // The client namespace's addresses: what the interceptor's FlowTracker was seeded with, so a
  // reader of the trace can classify its segments again exactly as the run did.
  std::vector<IpAddress> client_addresses;
  // One kernel jiffy (1/HZ) of the machine that ran the lab: timer granularity. Default HZ=250.
  // TODO(lead): the run layer should fill this from the running kernel's CONFIG_HZ.
  std::chrono::microseconds jiffy{4000};
  // How exactly wire times are known: ~0 from kernel timestamps; userspace NFQUEUE receipt
  // times carry the interceptor's scheduling latency. TODO(lead): the whole-wire capture with
  // kernel timestamps should set this to ~0.
  std::chrono::microseconds wire_resolution{5000};
  // How late a loaded host runs an expired timer (timer softirq and scheduling behind other
  // work): late side only. Up to ~15 ms measured on this shared 2-core machine with two labs.
  std::chrono::microseconds host_latency{20000};
  // When the observers stopped (the run's end); nullopt: the last event's time.
  std::optional<Instant> observed_until;
  // What the kernel or the lab could still have added when observation ended (a timer armed, a
  // segment held, a lab action waiting): the run's timeout came first. Absences and exact counts
  // these could change are not checked. Empty: nothing was pending.
  std::vector<PendingEvidence> pending_at_end;
  // Segments each side put on the wire after run_end (the kernel counted them before the counters
  // were read, the trace leaves them out with the teardown): how far a count may exceed the wire.
  PerSide<std::uint64_t> segments_after_end;  // 0 each unless set
  // When the run ended and its teardown began (the apps were stopped after this, still observed
  // until observed_until; segments entering wire later are left out). nullopt: observed_until.
  std::optional<Instant> run_end;
};

/// The note a report carries about how the kernel was observed: sampling_note when sampled,
/// empty when traced.
std::string_view observation_note(const Trace& trace);

}  // namespace lastack
