#pragma once
// RFC 9293's state diagram (section 3.3.2, figure 5) as inline SVG, one per side, for the
// step-through page: the page's script marks the state a side is in and the arrow it just took.
#include <string>
#include <string_view>

#include "lastack/trace.hpp"

namespace lastack {

/// The diagram for `side`: an `<svg class="diagram" data-side=...>` whose states are
/// `<g class="node" data-state="FIN_WAIT_2" data-node=...>` (state_name's spelling; CLOSED is
/// drawn twice, at the top and, as the RFC draws it, at the bottom right) and whose arrows are
/// `<g class="edge" data-from=... data-to=... data-to-node=...>` with the RFC's event/action as
/// their hover text. Only the RFC's own arrows: a Linux step beyond them has no arrow.
std::string render_state_diagram(Side side);

/// The event/action RFC 9293's figure writes on the arrow `from` -> `to` ("rcv FIN / snd ACK");
/// empty when the figure has no such arrow.
std::string_view diagram_arrow(TcpState from, TcpState to);

}  // namespace lastack
