#pragma once
// Programs of the user's in words: an app check of lastack exec's commands (exit, output), the
// exec client's "exits 0", and how an in-process function ended.
#include <string>

#include "lastack/finding.hpp"

namespace lastack {

/// "app client exit 0, output /^HTTP/".
std::string command_name(const CheckSubject& s, const AppClaim& c);

/// "the client command exits with status 0; its output matches /^HTTP/".
std::string command_expected(const Finding& f, const AppClaim& c);

/// What the command did (or the agents' steps), then what broke the claim or left it open.
std::string command_saw(const Finding& f, const AppClaim& c, const CommandSeen& seen);

/// command-exit, function-ended: "client command exits 0", "client function returned".
std::string end_name(const Finding& f);

/// What command-exit and function-ended expect of the side's program.
std::string end_expected(const Finding& f);

/// How it ended, as its runner said ("exit 0"), or that it never did.
std::string end_saw(const EndSeen& s);

}  // namespace lastack
