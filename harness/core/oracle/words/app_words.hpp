#pragma once
// An app finding in words: what an agent's steps were claimed to see, and what they saw.
#include <string>

#include "lastack/finding.hpp"

namespace lastack {

/// "app server sees eof, received 1000 bytes".
std::string app_name(const CheckSubject& s, const AppClaim& c);

/// "the server app: a step ending in eof, 1000 bytes read".
std::string app_expected(const CheckSubject& s, const AppClaim& c);

/// The steps and the bytes they moved, the old bytes read, then what broke the claim.
std::string app_saw(const Finding& f, const AppClaim& c, const AppSeen& seen);

}  // namespace lastack
