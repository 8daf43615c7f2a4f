#pragma once
// Each socket's states over a run, merged from the exact tracepoint (StateChange), sock_diag
// samples (SocketEvent) and what the wire proves about a timewait socket no tracepoint reports.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/trace.hpp"

namespace lastack {

/// Where a state in a history came from.
enum class StateSource : std::uint8_t {
  traced,    // sock:inet_sock_set_state: exact
  sampled,   // a sock_diag sample: the state was there then, short ones between may be missed
  inferred,  // a full socket handed over to a timewait socket, and the wire says which state
};

/// One state a socket was in, from `at`.
struct StateStep {
  Instant at{};
  TcpState state = TcpState::CLOSE;
  StateSource source = StateSource::sampled;
  std::optional<TcpState> from;  // traced: the old state the tracepoint reported
};

/// One socket (side and ports) and its states in time order, consecutive repeats collapsed.
struct StateHistory {
  Side side = Side::client;
  std::uint16_t local_port = 0, remote_port = 0;
  std::optional<std::size_t> connection;
  bool listener = false;  // seen in LISTEN
  std::vector<StateStep> steps;
  // Traced histories: the full socket handed over to a timewait socket but the trace cannot say
  // whether it entered TIME_WAIT (a TIME_WAIT overflow was counted, or never read). Empty: known.
  std::string timewait_unknown;
  // Traced: when the full socket handed over to a timewait socket still in FIN_WAIT_2 (an orphan
  // waiting for the peer's FIN).
  std::optional<Instant> orphan_fin_wait2;

  /// True when some step has `s`.
  bool reached(TcpState s) const;
  /// The states alone, in order.
  std::vector<TcpState> states() const;
};

/// Every socket's history, in order of first appearance. With trace.kernel_source traced, full
/// socket states come from StateChange events only; TIME_WAIT and an orphan's FIN_WAIT_2 are
/// timewait sockets: seen by sock_diag, or inferred when the full socket went from FIN_WAIT_2
/// or CLOSING to CLOSE (FIN_WAIT_1 -> CLOSE is the socket dying) with no reset on it and no TIME_WAIT overflow counted
/// (TIME_WAIT when the peer's FIN had reached it, else FIN_WAIT_2 until the peer's FIN arrives).
/// With kernel_source sampled, the sock_diag samples alone.
std::vector<StateHistory> state_histories(const Trace& trace);

/// "client socket 40000→8080", "server listener 8080".
std::string history_text(const StateHistory& h);

/// "SYN_SENT → ESTABLISHED → TIME_WAIT (inferred)".
std::string steps_text(const StateHistory& h);

/// What a trace can say about whether one of `histories` reached `s`.
enum class Evidence : std::uint8_t { seen, not_seen, unknown };
struct StateEvidence {
  Evidence evidence = Evidence::unknown;
  std::string why;  // for unknown: why the trace cannot tell
};
/// Sampled traces give one-sided evidence: a state sampled was seen; one not sampled is unknown,
/// except TIME_WAIT, which lasts 60 s unless a RST or a lab SOCK_DESTROY ends it (then unknown).
/// Traced: seen or not seen, except TIME_WAIT / FIN_WAIT_2 after an unknown hand-over.
/// `histories` are `side`'s. Without any, the wire alone can still rule TIME_WAIT out.
StateEvidence state_evidence(const Trace& trace, Side side, const std::vector<StateHistory>& histories,
                             TcpState s);

}  // namespace lastack
