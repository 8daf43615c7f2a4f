#pragma once
// Each socket's states over a run, one history per socket as the kernel names it (its cookie):
// the tracepoint's exact full-socket states, sock_diag's samples, and the hand-over to a
// timewait socket that the kernel's own fields at the close decide. What the wire suggests is
// kept as a labelled inference for the reports and never counts as evidence.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/trace/connection_scope.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// Where a state in a history came from.
enum class StateSource : std::uint8_t {
  traced,    // sock:inet_sock_set_state: exact
  sampled,   // a sock_diag sample: the state was there then, short ones between may be missed
  handover,  // the full socket closed from FIN_WAIT_2 or CLOSING with no error and no reset of its
             // own, and the namespace counted no TIME_WAIT overflow: tcp_time_wait made a
             // timewait socket, in TIME_WAIT when tcp_fin had accepted the peer's FIN (SOCK_DONE),
             // else in FIN_WAIT_2
  inferred,  // drawn from the wire only (a peer FIN reaching a timewait socket): shown, never evidence
};

/// Which of the kernel's three socket kinds held a state: Linux keeps a connection in a request
/// socket until the handshake's ACK (then its child, a full socket), and hands a closed full
/// socket in FIN_WAIT_2 or TIME_WAIT to a timewait socket.
enum class SocketForm : std::uint8_t { full, request, timewait };

/// One state a socket was in, from `at`.
struct StateStep {
  Instant at{};
  TcpState state = TcpState::CLOSE;
  StateSource source = StateSource::sampled;
  std::optional<TcpState> from;  // traced: the old state the tracepoint reported
  SocketForm form = SocketForm::full;
  // A request socket's SYN_RECV: when the SYN that made it reached its side, on the wire (its
  // kernel evidence, `at`, comes later: a sample, a SYN-ACK retransmission, its child). Shown only.
  std::optional<Instant> wire_start;
};

/// "request socket in SYN_RECV", "timewait socket in FIN_WAIT_2", "ESTABLISHED": a state and
/// the kind of socket that held it, the words the ladder, the HTML page and legal-states share.
std::string state_label(TcpState state, SocketForm form);

/// What a shown state rests on: "traced", "sampled", "handed over at its traced close",
/// "inferred from the wire".
std::string_view source_words(StateSource source);

/// One state as the reports show it: a step of a history, with an inferred start merged into the
/// evidence that confirmed it (the peer's FIN reaching a FIN_WAIT_2 timewait socket, then a
/// sample showing TIME_WAIT), so the shown start may come from the wire while the state rests on
/// the kernel's word (`source`, at `evidence_at`).
struct ShownStep {
  TcpState state = TcpState::CLOSE;
  SocketForm form = SocketForm::full;
  StateSource source = StateSource::sampled;
  Instant start{};        // where the band begins
  Instant evidence_at{};  // when the kernel's evidence begins (== start unless from_wire)
  bool from_wire = false; // start is a segment's arrival on the wire, before the kernel's evidence
  TcpState wire_segment = TcpState::CLOSE;  // from_wire: the state it began (SYN_RECV: a SYN, else a FIN)
};

/// "request socket in SYN_RECV (traced; from the SYN's arrival on the wire)": a shown step's label
/// and source, the source alone said once after a run of steps with the same one (`steps_text`).
std::string shown_step_text(const ShownStep& s);

/// Why a socket's life ended, as far as the kernel says.
enum class SocketEnd : std::uint8_t {
  open,               // still there when observation ended (or its end is not known)
  closed,             // a traced full socket closed (LAST_ACK's ACK, a listener, ...)
  error,              // closed with sk_err set: a timer gave up (ETIMEDOUT), a reset (ECONNRESET) ...
  reset,              // it sent a RST as it closed
  timewait_skipped,   // the hand-over found no room: TcpExt.TCPTimeWaitOverflow counted it
  timer,              // its timewait timer (or a request's) ran out: the last sample's expiry had passed
  replaced,           // a newer socket took its four-tuple (a SYN reopening a TIME_WAIT)
  destroyed,          // a lab action destroyed it (SOCK_DESTROY)
  vanished,           // a sample no longer showed it, and nothing the kernel reported says why
};

/// One socket (the kernel's cookie on one side) and its states in time order, consecutive
/// repeats collapsed.
struct StateHistory {
  Side side = Side::client;
  SocketCookie cookie = 0;  // 0: a trace from before cookies (then sockets are told apart by ports)
  std::uint16_t local_port = 0, remote_port = 0;
  std::optional<ConnectionIndex> connection;
  bool listener = false;  // seen in LISTEN
  bool request = false;   // a request socket (SYN_RECV before the handshake's ACK): its child is another socket
  std::vector<StateStep> steps;
  SocketEnd end = SocketEnd::open;
  int error = 0;  // SocketEnd::error: the kernel's sk_err
  // Why the trace cannot say whether this socket had a timewait socket's states (TIME_WAIT, or
  // FIN_WAIT_2 after its close) that no sample showed; empty: it can.
  std::string timewait_unknown;
  // The facts its close recorded and its samples say different things (a harness error): empty when they agree.
  std::string conflict;

  /// True when some step that is evidence (not inferred) has `s`.
  bool reached(TcpState s) const;
  /// The states alone, in order (inferred ones included, for display).
  std::vector<TcpState> states() const;
  /// When the full socket handed over to a timewait socket (the traced close); nullopt: it did not, or not traced.
  std::optional<Instant> handed_over() const;
};

/// `h`'s steps as shown: each inferred step followed by the same state and socket kind on the
/// kernel's word becomes one step, started at the inference (the wire) and resting on the evidence.
std::vector<ShownStep> shown_steps(const StateHistory& h);

/// Every socket's history, in order of first appearance. Traced (trace.kernel_source), a full
/// socket's states come from its StateChange events only, and the samples add what no
/// tracepoint reports: request sockets, and a timewait socket's states after the full socket
/// closed. Sampled, the samples alone.
std::vector<StateHistory> state_histories(const Trace& trace);

/// A socket the policy is not about: the trace has a wire, and no segment on it has this
/// socket's ports (a proxy's loopback backend, a health check inside one namespace). Never judged.
bool off_the_wire(const WirePorts& wire, const StateHistory& h);

/// The histories of `state_histories` whose sockets are on the wire.
std::vector<StateHistory> on_wire_histories(const Trace& trace);

/// `side`'s sockets but its listeners and those off the wire, in order of first appearance
/// (request sockets included).
std::vector<StateHistory> side_histories(const Trace& trace, Side side);

/// "client socket 40000→8080", "server listener 8080", "server request socket 8080←40000".
std::string history_text(const StateHistory& h);

/// "SYN_SENT → ESTABLISHED → FIN_WAIT_1 → FIN_WAIT_2 (traced) → timewait socket in FIN_WAIT_2
/// (handed over at its traced close) → timewait socket in TIME_WAIT (sampled; from the FIN's
/// arrival on the wire)": the shown steps, each run of one source followed by its source.
std::string steps_text(const StateHistory& h);

/// What a trace can say about whether one of `histories` reached `s`.
enum class Evidence : std::uint8_t { seen, not_seen, unknown };
struct StateEvidence {
  Evidence evidence = Evidence::unknown;
  std::string why;  // for unknown: why the trace cannot tell; for not_seen, when a counter decided it, which
};
/// Traced: seen or not seen from the kernel's word, except a timewait socket's states that no
/// sample showed and no fact at the close decides (unknown, saying why). Sampled: a state sampled
/// was seen; one not sampled is unknown unless the socket's own sampled states rule it out on
/// the kernel's state diagram. `histories` are `side`'s; without any, unknown.
StateEvidence state_evidence(const Trace& trace, Side side, const std::vector<StateHistory>& histories,
                             TcpState s);

/// The samples of `h`'s socket in trace order (timewait ones included).
std::vector<const SocketEvent*> samples_of_socket(const Trace& trace, const StateHistory& h);

}  // namespace lastack
