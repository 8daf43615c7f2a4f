#pragma once
// A socket-held finding in words: its name, its claim, the holds it saw.
#include <string>

#include "lastack/finding.hpp"

namespace lastack {

/// "no server socket held in CLOSE_WAIT at the end" ("client or server" when no one side).
std::string held_name(const CheckSubject& s, const HeldClaim& c);

/// "no server socket still in CLOSE_WAIT when the run ends", "... held in CLOSE_WAIT longer than 500 ms".
std::string held_expected(const CheckSubject& s, const HeldClaim& c);

/// The holds that broke the claim, else how many sockets it looked at, the longest hold and
/// what it could not judge.
std::string held_saw(const CheckSubject& s, const HeldClaim& c, const HoldsSeen& seen);

/// The side a socket-held check looked at: "server", or "client or server".
std::string held_side(const CheckSubject& s);

}  // namespace lastack
