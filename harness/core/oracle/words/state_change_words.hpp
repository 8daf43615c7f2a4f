#pragma once
// Sockets' state changes in words: legal-states (each change a step of the TCP state diagram) and
// timewait-only-active-closers (who closed first, who entered TIME_WAIT).
#include <string>
#include <vector>

#include "lastack/finding_invariants.hpp"

namespace lastack {

/// "SYN_SENT → ESTABLISHED → FIN_WAIT_2 → TIME_WAIT (timewait socket)"; "no states observed".
std::string steps_text(const std::vector<PathStep>& steps);

/// "client socket 40000→8080", "server listener 8080", "server request socket 8080←40000".
std::string socket_states_name(const SocketStates& s);

/// The steps that broke the diagram, else those not judged, else each socket's path; then the
/// sockets off the wire.
std::string legal_states_saw(const LegalStatesSeen& s);

/// The sides that entered TIME_WAIT having closed second, else whose TIME_WAIT is not known,
/// else each connection's close.
std::string closers_saw(const ClosersSeen& s);

}  // namespace lastack
