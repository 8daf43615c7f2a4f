// State changes in words: "client socket 40000→8080: SYN_SENT → ESTABLISHED → FIN_WAIT_1 ...",
// "client closed first, entered TIME_WAIT; server closed second, no TIME_WAIT".
#include "harness/core/oracle/words/state_change_words.hpp"

#include <vector>

#include <fmt/format.h>

#include "harness/core/base/errno_name.hpp"
#include "harness/core/oracle/invariant_support.hpp"
#include "harness/core/trace/state_history.hpp"

namespace lastack {

namespace {

// "request socket in SYN_RECV", "timewait socket in FIN_WAIT_2", "ESTABLISHED": state_label's words.
std::string path_label(const PathStep& s) {
  const SocketForm form = s.known == StateKnown::request_socket ? SocketForm::request
                          : s.known == StateKnown::observed     ? SocketForm::full
                                                                : SocketForm::timewait;
  return state_label(s.state, form);
}

// What a step rests on (source_words), and where its start came from when that was the wire.
std::string path_note(const PathStep& s) {
  const StateSource source = s.evidence == PathEvidence::traced     ? StateSource::traced
                             : s.evidence == PathEvidence::handover ? StateSource::handover
                             : s.evidence == PathEvidence::inferred ? StateSource::inferred
                                                                    : StateSource::sampled;
  std::string note(source_words(source));
  if (s.from_wire) note += fmt::format("; from the {}'s arrival on the wire", s.state == TcpState::SYN_RECV ? "SYN" : "FIN");
  return note;
}

std::string step_problem_text(const LegalStatesSeen& seen, const StepProblem& p) {
  const SocketStates& s = seen.sockets.at(p.socket);
  const std::string step = fmt::format("{} → {}", state_name(p.from), state_name(p.to));
  const char* why = p.miss == StepMiss::not_a_step    ? " is not a step of the TCP state diagram (traced)"
                    : p.miss == StepMiss::unreachable ? " is not reachable in the TCP state diagram"
                                                      : " skips states between samples";
  return fmt::format("{}: {}{} ({})", socket_states_name(s), step, why, steps_text(s.steps));
}

const char* turn_text(CloseTurn t) {
  switch (t) {
    case CloseTurn::first: return "closed first";
    case CloseTurn::second: return "closed second";
    case CloseTurn::sent_fin: return "sent a FIN";
    case CloseTurn::no_fin: return "sent no FIN";
  }
  return "";
}

// ", skipped TIME_WAIT (...)", ", closed with error ETIMEDOUT": how its socket ended, when not by closing.
std::string end_text(const SideCloseSeen& s) {
  switch (s.end) {
    case CloseEnd::closed: return "";
    case CloseEnd::timewait_skipped: return ", skipped TIME_WAIT (TcpExt.TCPTimeWaitOverflow counted it)";
    case CloseEnd::error: return fmt::format(", closed with error {}", errno_name(s.error));
    case CloseEnd::reset: return ", closed with a RST of its own";
  }
  return "";
}

// "client closed first, entered TIME_WAIT"
std::string side_close_text(const SideCloseSeen& s) {
  return fmt::format("{} {}, {}{}", side_name(s.side), turn_text(s.turn),
                     s.timewait == Entered::yes       ? "entered TIME_WAIT"
                     : s.timewait == Entered::unknown ? "TIME_WAIT not known"
                                                      : "no TIME_WAIT",
                     end_text(s));
}

std::string path_text(const std::vector<TcpState>& path) {
  std::string out;
  for (TcpState s : path) out += (out.empty() ? "" : " → ") + std::string(state_name(s));
  return out.empty() ? "no states observed" : out;
}

}  // namespace

std::string steps_text(const std::vector<PathStep>& steps) {
  std::string out;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const PathStep& s = steps[i];
    if (!out.empty()) out += " → ";
    out += path_label(s);
    // The source once after a run of steps that share it; a start from the wire is its step's own.
    const std::string note = path_note(s);
    if (s.from_wire || i + 1 == steps.size() || steps[i + 1].from_wire || path_note(steps[i + 1]) != note)
      out += " (" + note + ")";
  }
  return out.empty() ? "no states observed" : out;
}

std::string socket_states_name(const SocketStates& s) {
  switch (s.kind) {
    case SocketKind::listener: return fmt::format("{} listener {}", side_name(s.side), s.local_port);
    case SocketKind::request: return fmt::format("{} request socket {}←{}", side_name(s.side), s.local_port, s.remote_port);
    case SocketKind::connection: break;
  }
  return fmt::format("{} socket {}→{}", side_name(s.side), s.local_port, s.remote_port);
}

std::string legal_states_saw(const LegalStatesSeen& s) {
  std::vector<std::string> bad, unjudged, paths, apart;
  for (const StepProblem& p : s.problems) (p.miss == StepMiss::between ? unjudged : bad).push_back(step_problem_text(s, p));
  for (const SocketStates& socket : s.sockets)
    paths.push_back(fmt::format("{}: {}", socket_states_name(socket), steps_text(socket.steps)));
  for (const SocketStates& socket : s.apart) apart.push_back(socket_states_name(socket));
  std::string out = !bad.empty()        ? detail::join_some(bad)
                    : s.sockets.empty() ? "no socket states observed"
                    : !unjudged.empty()
                        ? fmt::format("{} step{} judged by reachability only, since {}: {}", unjudged.size(),
                                      unjudged.size() == 1 ? "" : "s", sampling_note, detail::join_some(unjudged, 2))
                        : detail::join_some(paths, 4);
  if (!apart.empty()) out += fmt::format("; off the wire, not judged: {}", detail::join_some(apart, 3));
  return out;
}

std::string closers_saw(const ClosersSeen& s) {
  if (s.connections.empty()) return "no connection seen";
  std::vector<std::string> summary, bad, unknown;
  for (const ConnectionCloseSeen& c : s.connections) {
    const std::string prefix = s.numbered ? fmt::format("connection {}: ", c.connection.value) : "";
    for (const SideCloseSeen* side : {&c.sides.client, &c.sides.server}) {
      if (side->timewait == Entered::yes && side->turn == CloseTurn::second)
        bad.push_back(fmt::format("{}{} entered TIME_WAIT but closed second ({})", prefix, side_name(side->side),
                                  path_text(side->path)));
      else if (side->turn == CloseTurn::first && side->timewait == Entered::unknown)
        unknown.push_back(fmt::format("{}{}: {}", prefix, side_name(side->side), side->unknown));
    }
    summary.push_back(prefix + side_close_text(c.sides.client) + "; " + side_close_text(c.sides.server));
  }
  return detail::join_some(!bad.empty() ? bad : !unknown.empty() ? unknown : summary);
}

}  // namespace lastack
