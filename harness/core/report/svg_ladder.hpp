#pragma once
// The ladder as SVG: the client's lane on the left, the server's on the right, time flowing
// down on a compressed scale. Pure rendering from the trace (the HTML report embeds it).
#include <string>

#include "lastack/trace.hpp"

namespace lastack {

struct SvgLadderOptions {
  bool compact = false;  // the index's small ladder: flags only, no app steps, no axis labels
};

/// The ladder as one `<svg>` element. Each wire segment is a `<g class="seg">` (with
/// data-fate, data-from and a hover `<title>` of its fields and roles); a dropped one holds a
/// `<g class="cross">` where it died; each state is a `<rect class="band" data-state=... data-band=N>` (N: its index in
/// state_bands, which the step-through player names);
/// retransmissions are linked to their originals by a `<path class="retx-link">`.
std::string render_svg_ladder(const Trace& trace, const SvgLadderOptions& options = {});

}  // namespace lastack
