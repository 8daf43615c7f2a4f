#include "lastack/tcp_state.hpp"

#include <array>
#include <cctype>
#include <string>
#include <utility>

namespace lastack {

namespace {

constexpr std::array<TcpState, 12> all_states = {
    TcpState::ESTABLISHED, TcpState::SYN_SENT,   TcpState::SYN_RECV, TcpState::FIN_WAIT1,
    TcpState::FIN_WAIT2,   TcpState::TIME_WAIT,  TcpState::CLOSE,    TcpState::CLOSE_WAIT,
    TcpState::LAST_ACK,    TcpState::LISTEN,     TcpState::CLOSING,  TcpState::NEW_SYN_RECV,
};

using Edge = std::pair<TcpState, TcpState>;

// One step of RFC 9293's diagram (section 3.3.2), plus Linux's request socket (NEW_SYN_RECV)
// and its abort paths; CLOSE is both "not yet connected" and "socket gone".
constexpr Edge steps[] = {
    {TcpState::CLOSE, TcpState::LISTEN},            // passive open
    {TcpState::CLOSE, TcpState::SYN_SENT},          // active open
    {TcpState::CLOSE, TcpState::NEW_SYN_RECV},      // Linux: a request socket appears for a SYN
    {TcpState::LISTEN, TcpState::NEW_SYN_RECV},     // Linux: the listener answers a SYN
    {TcpState::LISTEN, TcpState::SYN_RECV},         // rcv SYN, snd SYN,ACK
    {TcpState::LISTEN, TcpState::SYN_SENT},         // SEND on a listening TCB
    {TcpState::LISTEN, TcpState::CLOSE},            // close
    {TcpState::NEW_SYN_RECV, TcpState::SYN_RECV},   // Linux: the child socket is created on the ACK
    {TcpState::NEW_SYN_RECV, TcpState::CLOSE},      // request dropped or reset
    {TcpState::SYN_SENT, TcpState::SYN_RECV},       // simultaneous open
    {TcpState::SYN_SENT, TcpState::ESTABLISHED},    // rcv SYN,ACK
    {TcpState::SYN_SENT, TcpState::CLOSE},          // close, timeout, RST
    {TcpState::SYN_RECV, TcpState::ESTABLISHED},    // rcv ACK of SYN
    {TcpState::SYN_RECV, TcpState::FIN_WAIT1},      // close before the handshake completes
    {TcpState::SYN_RECV, TcpState::LISTEN},         // RST on a passively opened TCB
    {TcpState::SYN_RECV, TcpState::CLOSE},          // RST, abort
    {TcpState::ESTABLISHED, TcpState::FIN_WAIT1},   // close, snd FIN
    {TcpState::ESTABLISHED, TcpState::CLOSE_WAIT},  // rcv FIN
    {TcpState::ESTABLISHED, TcpState::CLOSE},       // RST, abort
    {TcpState::FIN_WAIT1, TcpState::FIN_WAIT2},     // rcv ACK of FIN
    {TcpState::FIN_WAIT1, TcpState::CLOSING},       // simultaneous close: rcv FIN
    {TcpState::FIN_WAIT1, TcpState::TIME_WAIT},     // rcv FIN carrying the ACK of our FIN
    {TcpState::FIN_WAIT1, TcpState::CLOSE},         // RST, abort
    {TcpState::FIN_WAIT2, TcpState::TIME_WAIT},     // rcv FIN
    {TcpState::FIN_WAIT2, TcpState::CLOSE},         // RST, abort, Linux's orphan FIN_WAIT2 timeout
    {TcpState::CLOSING, TcpState::TIME_WAIT},       // rcv ACK of FIN
    {TcpState::CLOSING, TcpState::CLOSE},           // RST, abort
    {TcpState::CLOSE_WAIT, TcpState::LAST_ACK},     // close, snd FIN
    {TcpState::CLOSE_WAIT, TcpState::CLOSE},        // RST, abort
    {TcpState::LAST_ACK, TcpState::CLOSE},          // rcv ACK of FIN, RST
    {TcpState::TIME_WAIT, TcpState::CLOSE},         // 2 MSL timeout, RST
};

constexpr bool has_step(TcpState from, TcpState to) {
  for (const auto& [a, b] : steps)
    if (a == from && b == to) return true;
  return false;
}

// Depth-first reachability; CLOSE ends a path, since a socket that is gone is never the same socket again.
constexpr bool reaches(TcpState from, TcpState to, std::array<bool, 16>& visited) {
  for (TcpState next : all_states) {
    const auto i = static_cast<std::size_t>(next);
    if (visited[i] || !has_step(from, next)) continue;
    if (next == to) return true;
    visited[i] = true;
    if (next != TcpState::CLOSE && reaches(next, to, visited)) return true;
  }
  return false;
}

struct Step {
  TcpState from, to;
  std::string_view why;
};

// One step at a time, as a traced socket takes it. RFC 9293's diagram (section 3.3.2) and text,
// then what Linux really does beyond it.
constexpr Step single_steps[] = {
    {TcpState::CLOSE, TcpState::LISTEN, "passive open: listen()"},
    {TcpState::CLOSE, TcpState::SYN_SENT, "active open: connect() sends SYN"},
    {TcpState::LISTEN, TcpState::SYN_RECV,
     "rcv SYN (Linux: the child is cloned from the listener, so the tracepoint reports the "
     "listener's LISTEN as its old state)"},
    {TcpState::LISTEN, TcpState::CLOSE, "Linux: close() of a listener"},
    {TcpState::SYN_SENT, TcpState::ESTABLISHED, "rcv SYN,ACK, snd ACK"},
    {TcpState::SYN_SENT, TcpState::SYN_RECV, "simultaneous open: rcv SYN"},
    {TcpState::SYN_SENT, TcpState::CLOSE,
     "close(); Linux also on RST and when tcp_syn_retries run out (ETIMEDOUT)"},
    {TcpState::SYN_RECV, TcpState::ESTABLISHED, "rcv ACK of SYN"},
    {TcpState::SYN_RECV, TcpState::FIN_WAIT1,
     "close() of a child not yet ACKed (Linux: also a fastopen child)"},
    {TcpState::SYN_RECV, TcpState::LISTEN, "RST on a passively opened TCB (RFC; not Linux)"},
    {TcpState::SYN_RECV, TcpState::CLOSE, "Linux: RST or abort of a child socket"},
    {TcpState::NEW_SYN_RECV, TcpState::SYN_RECV, "Linux: the request socket's ACK creates the child"},
    {TcpState::NEW_SYN_RECV, TcpState::CLOSE, "Linux: the request socket dropped, reset or timed out"},
    {TcpState::ESTABLISHED, TcpState::FIN_WAIT1, "close(), snd FIN"},
    {TcpState::ESTABLISHED, TcpState::CLOSE_WAIT, "rcv FIN, snd ACK"},
    {TcpState::ESTABLISHED, TcpState::CLOSE, "rcv RST, or abort (SO_LINGER 0, unread data on close)"},
    {TcpState::FIN_WAIT1, TcpState::FIN_WAIT2, "rcv ACK of FIN"},
    {TcpState::FIN_WAIT1, TcpState::CLOSING, "simultaneous close: rcv FIN, snd ACK"},
    {TcpState::FIN_WAIT1, TcpState::TIME_WAIT, "rcv FIN carrying the ACK of our FIN"},
    {TcpState::FIN_WAIT1, TcpState::CLOSE,
     "rcv RST, abort, or Linux: an orphan's FIN retries (tcp_orphan_retries) run out"},
    {TcpState::FIN_WAIT2, TcpState::TIME_WAIT, "rcv FIN, snd ACK"},
    {TcpState::FIN_WAIT2, TcpState::CLOSE,
     "rcv RST, abort, Linux's orphan FIN_WAIT_2 timeout, or Linux: the full socket hands over "
     "to a timewait socket"},
    {TcpState::CLOSING, TcpState::TIME_WAIT, "rcv ACK of FIN"},
    {TcpState::CLOSING, TcpState::CLOSE,
     "rcv RST, abort, or Linux: the full socket hands over to a timewait socket"},
    {TcpState::CLOSE_WAIT, TcpState::LAST_ACK, "close(), snd FIN"},
    {TcpState::CLOSE_WAIT, TcpState::CLOSE, "rcv RST, or abort"},
    {TcpState::LAST_ACK, TcpState::CLOSE, "rcv ACK of FIN (or RST)"},
    {TcpState::TIME_WAIT, TcpState::CLOSE, "2 MSL timeout (Linux: 60 s), RST (RFC 1337), SOCK_DESTROY"},
    {TcpState::TIME_WAIT, TcpState::SYN_RECV,
     "Linux (RFC 6191): a new SYN with a higher sequence number reuses the 4-tuple"},
};

std::string normalized(std::string_view name) {
  std::string out;
  for (char c : name)
    if (c != '_' && c != '-') out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string_view state_name(TcpState s) {
  switch (s) {
    case TcpState::ESTABLISHED: return "ESTABLISHED";
    case TcpState::SYN_SENT: return "SYN_SENT";
    case TcpState::SYN_RECV: return "SYN_RECV";
    case TcpState::FIN_WAIT1: return "FIN_WAIT_1";
    case TcpState::FIN_WAIT2: return "FIN_WAIT_2";
    case TcpState::TIME_WAIT: return "TIME_WAIT";
    case TcpState::CLOSE: return "CLOSED";
    case TcpState::CLOSE_WAIT: return "CLOSE_WAIT";
    case TcpState::LAST_ACK: return "LAST_ACK";
    case TcpState::LISTEN: return "LISTEN";
    case TcpState::CLOSING: return "CLOSING";
    case TcpState::NEW_SYN_RECV: return "NEW_SYN_RECV";
  }
  return "UNKNOWN";
}

std::optional<TcpState> state_from_name(std::string_view name) {
  const std::string key = normalized(name);
  for (TcpState s : all_states)
    if (normalized(state_name(s)) == key) return s;
  if (key == "CLOSE") return TcpState::CLOSE;
  if (key == "SYNRECEIVED") return TcpState::SYN_RECV;  // RFC 9293's spelling
  return std::nullopt;
}

std::string_view step_why(TcpState from, TcpState to) {
  for (const Step& s : single_steps)
    if (s.from == from && s.to == to) return s.why;
  return {};
}

bool legal_step(TcpState from, TcpState to) { return !step_why(from, to).empty(); }

bool legal_transition(TcpState from, TcpState to) {
  if (from == to) return true;  // a sampled observer seeing no change is never a violation
  std::array<bool, 16> visited{};
  return reaches(from, to, visited);
}

}  // namespace lastack
