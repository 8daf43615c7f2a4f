#pragma once
// A run's random draws in words, for `lastack replay` and `lastack run`: the seed, and per
// probabilistic fault how many segments it drew for and which draws fired.
#include <string>

#include "lastack/trace.hpp"

namespace lastack {

/// "random seed 7\n  fault 1 (line 20, p=0.1): 3 of 41 draws fired: #5 ... 0.0312, ...\n";
/// empty when the trace records no seed. Each fired draw names its match number, its segment
/// and its value, so two runs' lists can be compared by eye.
std::string render_draws(const Trace& trace);

/// The link a replay judges under, as the trace recorded it: "link, as recorded (--link):
/// client-to-server 50ms, in order; server-to-client 50ms, in order\n  412 segments' passages
/// read from the trace as the run made them (3 dropped by the link), not drawn again\n"; a
/// line for a trace whose segments crossed a link it did not record the settings of; empty
/// when the run had no link.
std::string render_recorded_link(const Trace& trace);

}  // namespace lastack
