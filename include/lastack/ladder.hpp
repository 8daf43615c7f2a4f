#pragma once
// The ladder diagram: the run as one arrow per wire segment between the client's and the
// server's columns, with each side's states beside them. Pure rendering from the trace.
#include <cstddef>
#include <string>

#include "lastack/trace.hpp"

namespace lastack {

struct LadderOptions {
  bool color = false;      // ANSI colours for drops and retransmissions
  std::size_t width = 78;  // total width
};

/// The ladder: client and server columns, one arrow per wire segment labelled with flags,
/// relative seq/ack and length; dropped segments end mid-way with an 'X'; retransmissions
/// carry their gap; each side's state changes are written beside its column.
std::string render_ladder(const Trace& trace, const LadderOptions& opts = {});

}  // namespace lastack
