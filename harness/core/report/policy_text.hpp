#pragma once
// A policy's rules in words, for `lastack explain`: what the wire will do, and what is checked.
#include <string>
#include <vector>

#include "lastack/policy.hpp"

namespace lastack {

/// "every syn-ack from server", "the 1st final-ack from client", "the 2nd to 101st syn from client".
std::string describe_selection(const FaultRule& rule);

/// "drop the 1st final-ack from client", "hold every first-fin from client until a fin from server (at most 3s)".
std::string describe_fault(const FaultRule& rule);

/// One direction of the [link] in words: "50ms ± 10ms, in order; 8 Mbit/s, queue 65536 bytes;
/// loss p=0.01; duplicate p=0.01"; "nothing" when it changes nothing.
std::string describe_link(const LinkDirection& d);

/// "50ms after a final-ack from client: destroy client's TIME_WAIT socket".
std::string describe_lab_action(const LabAction& action);

/// The steps of the scenario that make it about what lastack's agents do rather than what the
/// wire and the kernel do to any program ("client: abort", "server: exit"): a policy with any
/// describes the agents, and your programs under `lastack exec` would have to do the same.
/// Empty: it suits your programs.
std::vector<std::string> agent_behaviours(const Policy& policy);

}  // namespace lastack
