#pragma once
// A timewait finding in words: its name, its claim, what the sides did about TIME_WAIT.
#include <string>

#include "lastack/finding.hpp"

namespace lastack {

/// "timewait entered by first-closer (server), timer 59.0 s..60.0 s, restarted".
std::string timewait_name(const TimeWaitClaim& c);

/// "exactly client enters TIME_WAIT; the TIME_WAIT timer between ... when first seen; ...".
std::string timewait_expected(const TimeWaitClaim& c);

/// Each side's TIME_WAIT, then what broke the claim, or what left it open.
std::string timewait_saw(const TimeWaitClaim& c, const TimeWaitSeen& t);

}  // namespace lastack
