#pragma once
// Questions the oracle and the reports ask of a trace: retransmissions of a segment, resets,
// each socket's state history, the sender's RTO at a moment.
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lastack/trace.hpp"
#include "harness/core/base/netstat.hpp"

namespace lastack {

/// Linux's floor for the retransmission timer (TCP_RTO_MIN), the default tcp_rto_min_us.
inline constexpr std::chrono::milliseconds tcp_rto_min{200};

/// The sequence space a segment starts: a later segment with the same key resends it.
struct TransmissionKey {
  ConnectionIndex connection;
  Side from = Side::client;
  std::uint32_t seq = 0;  // raw
  auto operator<=>(const TransmissionKey&) const = default;
};

/// The key of `e`'s first sequence number.
TransmissionKey transmission_key(const WireEvent& e);

/// Every wire event, in trace order.
std::vector<const WireEvent*> wire_events(const Trace& trace);

/// True when `wires` (a trace's wire_events) show more than one connection.
bool several_connections(const std::vector<const WireEvent*>& wires);

/// Later wire events from the same sender on the same connection, tagged retransmission,
/// starting at `original`'s sequence number; in trace order.
std::vector<const WireEvent*> retransmissions_of(const Trace& trace, const WireEvent& original);

/// True when `later` resends `original`'s first sequence number (same seq, or a range covering
/// it: the kernel may collapse segments when it retransmits).
bool resends(const WireEvent& later, const WireEvent& original);

/// When the segment reached its receiver: the time it left wire (delivered_at) when captured,
/// else the release time for delayed or held segments, else when it was seen.
Instant arrival_time(const WireEvent& e);

/// The trace's harness errors (LabEvents of kind harness_error or observer_missed), in trace
/// order: any one makes the run prove nothing (exit 4).
std::vector<const LabEvent*> harness_errors(const Trace& trace);

/// True when a segment went on to its receiver (it was not dropped).
bool delivered(const WireEvent& e);

/// The one RST predicate: `w` is a reset an endpoint's kernel sent; one lastack injected (a
/// [[lab]] inject-rst) counts only with `count_injected`.
bool is_reset(const WireEvent& w, bool count_injected = false);

/// True when an RST (injected ones too) was seen on `connection` at or after `at`.
bool reset_after(const Trace& trace, ConnectionIndex connection, Instant at);

/// True when any RST (injected ones too) was seen on the wire.
bool any_reset(const Trace& trace);

/// True when `side`'s kernel sent an RST on `connection`.
bool sent_reset(const Trace& trace, ConnectionIndex connection, Side side);

/// The first connection whose segments a socket on `side` with these ports sends; nullopt when
/// the wire never showed them.
std::optional<ConnectionIndex> connection_of_ports(const Trace& trace, Side side,
                                               std::uint16_t local_port, std::uint16_t remote_port);

/// Fills in the connection of every kernel event (sock_diag samples, tracepoint events) that
/// has none, from the wire's ports.
void attribute_connections(Trace& trace);

/// The round trip between the endpoints, the larger of what the wire and the kernel show: each
/// end's shortest handshake round trip through the wire (its SYN or SYN-ACK crossing, the peer's
/// turnaround, the answer crossing back: a [link]'s latency both ways included, a fault's hold
/// not), and the largest smoothed RTT (tcpi_rtt) the sockets' samples recorded.
/// nullopt: no handshake on the wire and no RTT sampled.
std::optional<Duration> measured_rtt(const Trace& trace);

/// One socket's sock_diag samples, identified by its side and ports.
struct SocketHistory {
  Side side = Side::client;
  std::uint16_t local_port = 0, remote_port = 0;
  std::optional<ConnectionIndex> connection;  // from the samples, else from the wire's ports
  bool listener = false;                  // sampled in LISTEN at least once
  std::vector<const SocketEvent*> events;

  /// The states it went through, consecutive repeats collapsed.
  std::vector<TcpState> states() const;
  /// True when some sample has `s`.
  bool reached(TcpState s) const;
};

/// "client socket 40000→8080", "server listener 8080".
std::string socket_text(const SocketHistory& h);

/// Every socket sampled, in order of its first sample.
std::vector<SocketHistory> socket_histories(const Trace& trace);

/// The connection a socket sample belongs to: its own field, else the connection whose
/// segments use the same ports from that side; nullopt when neither says.
std::optional<ConnectionIndex> socket_connection(const Trace& trace, const SocketEvent& e);

/// True when the sender's kernel re-sent sequence space: a retransmission role on a segment the
/// endpoint sent (a copy injected by lastack is not the kernel retransmitting).
bool kernel_retransmission(const WireEvent& w);

/// A segment in words: "F. seq 1 from server", "P. seq 1 len 1000 from client".
std::string segment_text(const WireEvent& e);

/// "SYN_SENT → ESTABLISHED → TIME_WAIT".
std::string state_path_text(const std::vector<TcpState>& states);

/// The sender's RTO at `at`: tcpi_rto of the latest sample of `side` (on `connection`, when the
/// sample's connection is known) at or before `at` with a non-zero rto.
std::optional<std::chrono::microseconds> rto_at(const Trace& trace, Side side,
                                                std::optional<ConnectionIndex> connection, Instant at);

/// The RTO the sender had armed for `original`: its latest sample at or before it, else (sock_diag
/// samples lag the wire by a few ms) its first sample with a non-zero rto before `until` (nullopt:
/// any later sample). Samples taken before the handshake completed (the initial 1 s RTO) count
/// only for SYN segments.
std::optional<std::chrono::microseconds> rto_for(const Trace& trace, const WireEvent& original,
                                                 std::optional<Instant> until);

/// Which of several samples rto_sampled_between takes: the first, or the latest whose timer had
/// not fired yet (icsk_retransmits still 0).
enum class SamplePick : std::uint8_t { first, latest_unfired };

/// The RTO of `original`'s sender in its first (or latest unfired) sample in [from, until)
/// (nullopt until: no end), same usability rule as rto_for. The kernel changes icsk_rto only where
/// it re-arms the timer, so the latest sample before a timer fires, taken after it was armed,
/// shows the RTO it ran with.
std::optional<std::chrono::microseconds> rto_sampled_between(const Trace& trace, const WireEvent& original,
                                                             Instant from, std::optional<Instant> until,
                                                             SamplePick pick);

/// How the kernel came to resend, from the gaps between successive transmissions: a first gap
/// well under the sender's RTO (less than half; tcp_rto_min when no RTO was sampled) is a
/// "tail-loss probe"; so is a first gap followed by an equal one rather than a doubled one (the
/// probe fired at the RTO and re-armed the timer instead of backing it off). Else "RTO retransmission".
std::string_view retransmission_mechanism(const std::vector<Duration>& gaps,
                                          std::optional<std::chrono::microseconds> rto);

/// 1 when the first retransmission was a tail-loss probe (see retransmission_mechanism), else 0:
/// exponential backoff is judged from the retransmissions after it.
std::size_t leading_probes(const std::vector<Duration>& gaps, std::optional<std::chrono::microseconds> rto);

/// The kernel's own account of a wire retransmission `w`: the KernelRetransmit on the same
/// sender and sequence number closest before it (1 ms of slack); nullptr when there is none.
const KernelRetransmit* kernel_retransmit_for(const Trace& trace, const WireEvent& w);

/// How late the kernel says it ran the timer that sent retransmission `w` (0 when it did not
/// say: not traced, or not the timer's doing).
Duration timer_lateness(const Trace& trace, const WireEvent& w);

/// When the kernel last armed the timer that sent retransmission `w`, by its own account (the
/// timer's expiry minus the RTO it was armed with, to a jiffy: an RTO or a request's SYN-ACK
/// timer); nullopt when it did not say.
std::optional<Instant> timer_armed_at(const Trace& trace, const WireEvent& w);

/// How many of the first retransmissions (`again`, with `gaps` from the original) were tail-loss
/// probes: exact from the kernel's causes when each has one, else leading_probes (inferred).
struct ProbeCount {
  std::size_t count = 0;
  bool inferred = true;
};
ProbeCount leading_probe_count(const Trace& trace, const std::vector<const WireEvent*>& again,
                               const std::vector<Duration>& gaps,
                               std::optional<std::chrono::microseconds> rto);

/// The kernel counters a report shows at the end of a run, one line per side whose counters
/// were read: "server kernel counters: Tcp.OutRsts +1, TcpExt.PAWSEstab +3" (the nonzero Tcp and
/// TcpExt changes, tcp_counter_text), or "... no TCP counter changed". None when neither was read.
std::vector<std::string> kernel_counter_lines(const Trace& trace);

}  // namespace lastack
