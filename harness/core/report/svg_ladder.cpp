#include "harness/core/report/svg_ladder.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <cmath>

#include "harness/core/base/duration_text.hpp"
#include "harness/core/report/ladder_model.hpp"
#include "harness/core/report/svg.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "lastack/per_side.hpp"

namespace lastack {

namespace {
using svg::num;

// Where things go; the compact ladder is the same drawing, tighter.
struct Layout {
  double width, axis_x, client_x, server_x, top, min_gap, log_px, slant, font;
  bool compact;
  bool many_connections = false;  // labels then start with the connection: "#2 F. seq 1 ..."

  double lane(Side s) const { return s == Side::client ? client_x : server_x; }
  double mid() const { return (client_x + server_x) / 2; }
  double outward(Side s) const { return s == Side::client ? -1.0 : 1.0; }  // away from the middle
};

// A side's labels grow away from the middle: the client's end at its lane, the server's start there.
constexpr PerSide<const char*> text_anchor{"end", "start"};

Layout layout_for(const SvgLadderOptions& o) {
  if (o.compact) return {420, 0, 110, 310, 36, 16, 10, 10, 10, true};
  return {1040, 64, 340, 760, 48, 26, 30, 18, 12, false};
}

std::string ms_at(Instant t) {
  const double ms = std::chrono::duration<double, std::milli>(t.time_since_epoch()).count();
  return ms >= 1000 ? fmt::format("{:.3f} s", ms / 1000) : fmt::format("{:.1f} ms", ms);
}

std::vector<Instant> key_instants(const Trace& trace, const WireIndex& wire) {
  const auto [first, last] = trace_span(trace);
  std::vector<Instant> keys{first, last};
  for (const WireEvent* w : wire.events) {
    keys.push_back(w->at);
    if (w->released) keys.push_back(*w->released);
  }
  return keys;
}

std::string axis(const TimeScale& scale, const Layout& l) {
  std::string out = svg::line(l.axis_x, scale.y(scale.keys().front()) - 8, l.axis_x, scale.bottom() + 8,
                              "class=\"axis\"");
  double last_label = -100;
  for (Instant k : scale.keys()) {
    const double y = scale.y(k);
    out += svg::line(l.axis_x - 4, y, l.axis_x, y, "class=\"axis\"");
    if (y - last_label < l.font + 2) continue;  // keys closer than a line: the first one speaks
    out += svg::text(l.axis_x - 6, y + 4, ms_at(k), "class=\"tick\" text-anchor=\"end\"");
    last_label = y;
  }
  return out;
}

std::string lanes(const TimeScale& scale, const Layout& l) {
  std::string out;
  for (Side s : {Side::client, Side::server}) {
    out += svg::text(l.lane(s), l.top - 22, side_name(s), "class=\"lane-name\" text-anchor=\"middle\"");
    out += svg::line(l.lane(s), l.top - 12, l.lane(s), scale.bottom() + 12, "class=\"lane\"");
  }
  return out;
}

std::string_view form_name(SocketForm f) {
  switch (f) {
    case SocketForm::full: return "full";
    case SocketForm::request: return "request";
    case SocketForm::timewait: return "timewait";
  }
  return "full";
}

std::string_view source_name(StateSource s) {
  switch (s) {
    case StateSource::traced: return "traced";
    case StateSource::sampled: return "sampled";
    case StateSource::handover: return "handover";
    case StateSource::inferred: return "inferred";
  }
  return "sampled";
}

// A band: the state's rectangle, its stretch from the wire before the kernel's evidence (hatched),
// a dashed outline when the whole state is inferred from the wire.
std::string band(const StateBand& b, std::size_t index, const TimeScale& scale, const Layout& l) {
  const double x = l.lane(b.side), y0 = scale.y(b.start), y1 = std::max(scale.y(b.end), y0 + 3);
  const std::string state(state_name(b.state));
  std::string classes = fmt::format("band st-{} form-{}", state, form_name(b.form));
  if (b.source == StateSource::inferred) classes += " inferred";
  std::string body = svg::rect(x - 5, y0, 10, y1 - y0,
                               fmt::format("class=\"{}\" data-state=\"{}\" data-side=\"{}\" data-connection=\"{}\" "
                                           "data-form=\"{}\" data-source=\"{}\" data-label=\"{}\" data-band=\"{}\"",
                                           classes, state, side_name(b.side), number_of(b.connection).value,
                                           form_name(b.form), source_name(b.source), state_label(b.state, b.form),
                                           index));
  if (b.from_wire) {
    const double yw = std::clamp(scale.y(b.evidence_at), y0, y1);
    body += svg::rect(x - 5, y0, 10, std::max(yw - y0, 1.0), "class=\"band-wire\"");
  }
  body += svg::title(fmt::format("{} {} from {} to {} ({}, connection {})", side_name(b.side),
                                 state_label(b.state, b.form), ms_at(b.start), ms_at(b.end), b.source_text(),
                                 number_of(b.connection).value));
  return fmt::format("<g class=\"band-group\">{}</g>", body);
}

std::string bands(const std::vector<StateBand>& list, const TimeScale& scale, const Layout& l) {
  std::string out;
  PerSide<double> last_label{-100, -100};
  for (std::size_t i = 0; i < list.size(); ++i) {
    const StateBand& b = list[i];
    out += band(b, i, scale, l);
    const double x = l.lane(b.side), y0 = scale.y(b.start);
    double& last = last_label[b.side];
    // A full socket's state the next one follows within a line (a child's SYN_RECV, a FIN_WAIT_2
    // its timewait socket takes over) leaves its label to the next; the hover says it.
    const bool next_close = i + 1 < list.size() && list[i + 1].side == b.side &&
                            list[i + 1].connection == b.connection && scale.y(list[i + 1].start) - y0 < l.font;
    if (b.form == SocketForm::full && next_close) continue;
    // No room: the hover says it. A request or timewait socket's label always shows: it is what a reader looks for.
    if (y0 - last < l.font && b.form == SocketForm::full) continue;
    const char* anchor = text_anchor[b.side];
    std::string text = state_label(b.state, b.form);
    if (b.source == StateSource::inferred) text += " (inferred)";
    const double y = std::max(y0, last + l.font);
    out += svg::text(x + l.outward(b.side) * 9, y + l.font - 2, text,
                     fmt::format("class=\"state-label\" text-anchor=\"{}\"", anchor));
    last = y;
    // Its timer and a start from the wire on a line of their own, so the label stays short.
    std::vector<std::string> notes;
    if (b.timer) notes.push_back("timer " + seconds_text(*b.timer));
    if (b.from_wire) notes.push_back(b.state == TcpState::SYN_RECV ? "from the SYN, wire" : "from the FIN, wire");
    if (!l.compact && !notes.empty()) {
      std::string note = notes.front();
      for (std::size_t n = 1; n < notes.size(); ++n) note += " · " + notes[n];
      out += svg::text(x + l.outward(b.side) * 9, y + 2 * l.font - 2, note,
                       fmt::format("class=\"state-note\" text-anchor=\"{}\"", anchor));
      last = y + l.font;
    }
    for (Instant r : b.timer_restarts)
      out += svg::text(x + l.outward(b.side) * 9, scale.y(r) + l.font - 2, "timer restarted",
                       fmt::format("class=\"timer\" text-anchor=\"{}\"", anchor));
  }
  return out;
}

std::string label_of(const WireEvent& w, const Layout& l) {
  const std::string connection = l.many_connections ? fmt::format("#{} ", number_of(w.info.connection).value) : "";
  if (l.compact) return connection + w.segment.flags.tcpdump();
  std::string label = fmt::format("{}{} seq {}", connection, w.segment.flags.tcpdump(), w.info.rel_seq);
  if (w.segment.flags.ack()) label += fmt::format(" ack {}", w.info.rel_ack);
  return label + fmt::format(" len {}", w.segment.payload_len);
}

std::string hover_of(const WireEvent& w, std::size_t n) {
  std::string t = fmt::format("#{} {} → {}, connection {}\nat {}", n + 1, side_name(w.info.from),
                              side_name(peer_of(w.info.from)), number_of(w.info.connection).value, ms_at(w.at));
  if (w.released) t += fmt::format(", released {}", ms_at(*w.released));
  t += fmt::format("\nflags {} ({})\nseq {} ack {} len {} win {}", w.segment.flags.tcpdump(),
                   w.segment.flags.names(), w.info.rel_seq, w.info.rel_ack, w.segment.payload_len,
                   w.segment.window);
  t += fmt::format("\nraw seq {} ack {}", w.segment.seq.raw(), w.segment.ack.raw());
  t += "\nroles: " + (w.info.roles.empty() ? std::string("none") : w.info.roles.str());
  t += fmt::format("\nfate: {}", fate_name(w.fate));
  if (w.injected) t += " (injected by lastack)";
  if (!w.note.empty()) t += "\n" + w.note;
  return t;
}

// The classes that colour a segment: its direction, and what happened to it.
std::string seg_classes(const WireEvent& w) {
  std::string c = fmt::format("seg from-{}", side_name(w.info.from));
  if (kernel_retransmission(w)) c += " retx";
  if (w.injected) c += " injected";
  if (!delivered(w)) c += " dropped";
  return c;
}

std::string marker_of(const WireEvent& w) {
  if (w.injected) return "url(#head-injected)";
  return kernel_retransmission(w) ? "url(#head-retx)" : "url(#head)";
}

// One segment: an arrow from the sender at its send time to the receiver at its arrival; a
// dropped one stops half-way in a cross, a held or delayed one waits half-way (dashed).
std::string segment(const WireEvent& w, std::size_t n, const TimeScale& scale, const Layout& l) {
  const double xs = l.lane(w.info.from), xr = l.lane(peer_of(w.info.from)), xm = l.mid();
  const double ys = scale.y(w.at), ym = ys + l.slant / 2;
  const bool waited = w.released && (w.fate == Fate::delayed || w.fate == Fate::held);
  const double yr = waited ? scale.y(*w.released) + l.slant / 2 : ym;
  std::string body = svg::title(hover_of(w, n));
  std::string shaft = "class=\"shaft\"";
  if (!delivered(w) || (w.fate == Fate::held && !w.released)) {
    body += svg::line(xs, ys, xm, ym, shaft);
    body += fmt::format("<g class=\"cross\">{}{}</g>", svg::line(xm - 6, ym - 6, xm + 6, ym + 6, ""),
                        svg::line(xm - 6, ym + 6, xm + 6, ym - 6, ""));
    const std::string note = w.note.empty() ? std::string(fate_name(w.fate)) : w.note;
    if (!l.compact) body += svg::text(xm, ym + l.font + 6, note, "class=\"drop-note\" text-anchor=\"middle\"");
  } else if (waited) {
    body += svg::line(xs, ys, xm, ym, shaft);
    body += svg::line(xm, ym, xm, yr, "class=\"pause\"");
    body += svg::line(xm, yr, xr, yr + l.slant / 2, shaft + " marker-end=\"" + marker_of(w) + "\"");
    if (!l.compact)
      // Just below where the wait starts: the rows right after a segment are its own.
      body += svg::text(xm + 6, ym + l.font + 4, fmt::format("{} {}", fate_name(w.fate), ms_text(*w.released - w.at)),
                        "class=\"pause-note\"");
  } else {
    body += svg::line(xs, ys, xr, ys + l.slant, shaft + " marker-end=\"" + marker_of(w) + "\"");
  }
  // The label sits above the first half of the shaft, nearer the sender.
  const double lx = (xs + xm) / 2 + (xm - xs) * 0.15;
  body += svg::text(lx, ys + l.slant / 4 - 4, label_of(w, l), "class=\"seg-label\" text-anchor=\"middle\"");
  return fmt::format("<g class=\"{}\" data-seg=\"{}\" data-fate=\"{}\" data-from=\"{}\">{}</g>", seg_classes(w), n,
                     fate_name(w.fate), side_name(w.info.from), body);
}

// A retransmission's link to its original: a thin curve along the sender's lane, with the gap
// and the RTO the kernel had armed.
std::string retx_link(const Trace& trace, const WireEvent& original, const WireEvent& retx, const TimeScale& scale,
                      const Layout& l) {
  const double x = l.lane(retx.info.from), y1 = scale.y(original.at), y2 = scale.y(retx.at);
  const double bulge = -l.outward(retx.info.from) * (l.compact ? 24 : 46);
  std::string out = fmt::format("<path class=\"retx-link\" d=\"M{},{} C{},{} {},{} {},{}\"/>", num(x), num(y1),
                                num(x + bulge), num(y1), num(x + bulge), num(y2), num(x), num(y2));
  std::string note = "+" + ms_text(retx.at - original.at);
  if (!l.compact) {
    note = "retransmitted " + note;
    if (const auto rto = retransmission_rto(trace, original, retx)) note += " · RTO " + ms_text(*rto);
  }
  // Outside the lane, where no arrow label runs.
  const char* anchor = text_anchor[retx.info.from];
  out += svg::text(x + l.outward(retx.info.from) * 9, (y1 + y2) / 2 + 4, note,
                   fmt::format("class=\"timer\" text-anchor=\"{}\"", anchor));
  return out;
}

std::string app_and_lab(const Trace& trace, const TimeScale& scale, const Layout& l) {
  std::string out;
  PerSide<double> next_free;  // app notes that would overlap move down a line
  for (const TraceEvent& ev : trace.events) {
    if (const auto* a = std::get_if<AppEvent>(&ev)) {
      std::string what = a->step + " → " + a->outcome;
      if (what.size() > 34) what = what.substr(0, 31) + "...";
      const double x = l.lane(a->side) + l.outward(a->side) * 110;
      double& free = next_free[a->side];
      const double y = std::max(scale.y(a->at) + 4, free);
      free = y + l.font + 1;
      out += fmt::format("<g class=\"app\">{}{}</g>",
                         svg::title(fmt::format("{} app: {} → {} ({} bytes) at {}", side_name(a->side), a->step,
                                                a->outcome, a->bytes, ms_at(a->at))),
                         svg::text(x, y, what,
                                   fmt::format("class=\"app-note\" text-anchor=\"{}\"",
                                               text_anchor[a->side])));
    } else if (const auto* lab = std::get_if<LabEvent>(&ev)) {
      out += svg::text(l.mid(), scale.y(lab->at) + 4, "lab: " + lab->what, "class=\"lab-note\" text-anchor=\"middle\"");
    }
  }
  return out;
}

constexpr std::string_view defs =
    "<defs>"
    "<marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
    "orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#37474f\"/></marker>"
    "<marker id=\"head-retx\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
    "orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#e65100\"/></marker>"
    "<marker id=\"head-injected\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
    "orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#6a1b9a\"/></marker>"
    "</defs>";
}  // namespace

std::string render_svg_ladder(const Trace& trace, const SvgLadderOptions& options) {
  Layout l = layout_for(options);
  const WireIndex wire = index_wire(trace);
  l.many_connections = several_connections(wire.events);
  const TimeScale scale(key_instants(trace, wire), l.top, l.min_gap, l.log_px);
  const double height = scale.bottom() + l.slant + 40;
  std::string body(defs);
  if (!l.compact) body += axis(scale, l);
  body += lanes(scale, l);
  body += bands(state_bands(trace), scale, l);
  for (std::size_t i = 0; i < wire.events.size(); ++i)
    if (wire.original[i]) body += retx_link(trace, *wire.events[*wire.original[i]], *wire.events[i], scale, l);
  for (std::size_t i = 0; i < wire.events.size(); ++i) body += segment(*wire.events[i], i, scale, l);
  if (!l.compact) body += app_and_lab(trace, scale, l);
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ladder{}\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "font-size=\"{}\">{}</svg>",
      l.compact ? " compact" : "", num(l.width), num(height), num(l.width), num(height), num(l.font), body);
}

}  // namespace lastack
