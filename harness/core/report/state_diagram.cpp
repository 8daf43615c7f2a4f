#include "harness/core/report/state_diagram.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "harness/core/report/svg.hpp"
#include "lastack/tcp_state.hpp"

namespace lastack {

namespace {
using svg::num;

struct Node {
  std::string_view id;  // data-node: the state's name, "CLOSED-end" for the second CLOSED
  TcpState state;
  std::string_view label;  // RFC 9293's spelling
  double x, y;             // centre
};

// RFC 9293 figure 5's layout: opening on top, the active closer down the left, the passive one
// down the right, the second CLOSED at the bottom right.
constexpr Node nodes[] = {
    {"CLOSED", TcpState::CLOSE, "CLOSED", 165, 22},
    {"LISTEN", TcpState::LISTEN, "LISTEN", 165, 80},
    {"SYN_RECV", TcpState::SYN_RECV, "SYN-RECEIVED", 55, 140},
    {"SYN_SENT", TcpState::SYN_SENT, "SYN-SENT", 275, 140},
    {"ESTABLISHED", TcpState::ESTABLISHED, "ESTABLISHED", 165, 200},
    {"FIN_WAIT_1", TcpState::FIN_WAIT1, "FIN-WAIT-1", 55, 260},
    {"CLOSE_WAIT", TcpState::CLOSE_WAIT, "CLOSE-WAIT", 275, 260},
    {"FIN_WAIT_2", TcpState::FIN_WAIT2, "FIN-WAIT-2", 55, 320},
    {"CLOSING", TcpState::CLOSING, "CLOSING", 165, 320},
    {"LAST_ACK", TcpState::LAST_ACK, "LAST-ACK", 275, 320},
    {"TIME_WAIT", TcpState::TIME_WAIT, "TIME-WAIT", 165, 380},
    {"CLOSED-end", TcpState::CLOSE, "CLOSED", 275, 380},
};
constexpr double half_w = 50, half_h = 12;

struct Arrow {
  std::string_view from, to;  // node ids
  std::string_view label;     // the figure's event / action
};

constexpr Arrow arrows[] = {
    {"CLOSED", "LISTEN", "passive OPEN / create TCB"},
    {"LISTEN", "CLOSED", "CLOSE / delete TCB"},
    {"CLOSED", "SYN_SENT", "active OPEN / create TCB, snd SYN"},
    {"LISTEN", "SYN_RECV", "rcv SYN / snd SYN,ACK"},
    {"SYN_RECV", "LISTEN", "rcv RST (passive open)"},
    {"LISTEN", "SYN_SENT", "SEND / snd SYN"},
    {"SYN_SENT", "SYN_RECV", "rcv SYN / snd SYN,ACK (simultaneous open)"},
    {"SYN_SENT", "CLOSED", "CLOSE / delete TCB"},
    {"SYN_RECV", "ESTABLISHED", "rcv ACK of SYN"},
    {"SYN_SENT", "ESTABLISHED", "rcv SYN,ACK / snd ACK"},
    {"SYN_RECV", "FIN_WAIT_1", "CLOSE / snd FIN"},
    {"ESTABLISHED", "FIN_WAIT_1", "CLOSE / snd FIN"},
    {"ESTABLISHED", "CLOSE_WAIT", "rcv FIN / snd ACK"},
    {"FIN_WAIT_1", "FIN_WAIT_2", "rcv ACK of FIN"},
    {"FIN_WAIT_1", "CLOSING", "rcv FIN / snd ACK"},
    {"CLOSE_WAIT", "LAST_ACK", "CLOSE / snd FIN"},
    {"FIN_WAIT_2", "TIME_WAIT", "rcv FIN / snd ACK"},
    {"CLOSING", "TIME_WAIT", "rcv ACK of FIN"},
    {"LAST_ACK", "CLOSED-end", "rcv ACK of FIN"},
    {"TIME_WAIT", "CLOSED-end", "Timeout = 2 MSL / delete TCB"},
};

const Node& node(std::string_view id) {
  for (const Node& n : nodes)
    if (n.id == id) return n;
  return nodes[0];
}

bool has_reverse(const Arrow& a) {
  for (const Arrow& b : arrows)
    if (b.from == a.to && b.to == a.from) return true;
  return false;
}

// Where the line from a box's centre along (dx, dy) leaves the box.
std::pair<double, double> edge_point(const Node& n, double dx, double dy) {
  const double tx = dx == 0 ? 1e9 : half_w / std::abs(dx), ty = dy == 0 ? 1e9 : half_h / std::abs(dy);
  const double t = std::min(tx, ty);
  return {n.x + dx * t, n.y + dy * t};
}

std::string arrow_svg(const Arrow& a, Side side) {
  const Node &f = node(a.from), &t = node(a.to);
  double dx = t.x - f.x, dy = t.y - f.y;
  const double length = std::hypot(dx, dy);
  dx /= length, dy /= length;
  // A pair of opposite arrows runs side by side, each offset to its own right.
  const double shift = has_reverse(a) ? 5 : 0;
  const double ox = -dy * shift, oy = dx * shift;
  auto [x1, y1] = edge_point(f, dx, dy);
  auto [x2, y2] = edge_point(t, -dx, -dy);
  return fmt::format(
      "<g class=\"edge\" data-from=\"{}\" data-to=\"{}\" data-to-node=\"{}\">{}<line x1=\"{}\" y1=\"{}\" x2=\"{}\" "
      "y2=\"{}\" marker-end=\"url(#sd-arrow-{})\"/></g>",
      state_name(f.state), state_name(t.state), t.id, svg::title(a.label), num(x1 + ox), num(y1 + oy), num(x2 + ox),
      num(y2 + oy), side_name(side));
}
}  // namespace

std::string_view diagram_arrow(TcpState from, TcpState to) {
  for (const Arrow& a : arrows)
    if (node(a.from).state == from && node(a.to).state == to) return a.label;
  return {};
}

std::string render_state_diagram(Side side) {
  std::string body = fmt::format(
      "<defs><marker id=\"sd-arrow-{}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"8\" "
      "markerHeight=\"8\" markerUnits=\"userSpaceOnUse\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#546e7a\"/></marker></defs>",
      side_name(side));
  body += svg::text(4, 14, side_name(side), "class=\"diagram-side\"");
  for (const Arrow& a : arrows) body += arrow_svg(a, side);
  for (const Node& n : nodes)
    body += fmt::format("<g class=\"node\" data-state=\"{}\" data-node=\"{}\">{}{}</g>", state_name(n.state), n.id,
                        svg::rect(n.x - half_w, n.y - half_h, 2 * half_w, 2 * half_h, "rx=\"5\""),
                        svg::text(n.x, n.y + 4, n.label, "text-anchor=\"middle\""));
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"diagram\" data-side=\"{}\" width=\"330\" height=\"400\" "
      "viewBox=\"0 0 330 400\" font-size=\"11\" role=\"img\" aria-label=\"RFC 9293 state diagram, {}\">{}</svg>",
      side_name(side), side_name(side), body);
}

}  // namespace lastack
