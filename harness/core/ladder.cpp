// The ladder diagram: the client's column on the left, the server's on the right, one arrow
// per wire segment (drawn when it reached its receiver), states, app steps and lab notes.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "harness/core/duration_text.hpp"
#include "harness/core/report.hpp"
#include "harness/core/text_columns.hpp"
#include "harness/core/trace_query.hpp"

namespace lastack {
namespace {

constexpr std::string_view red = "\x1b[31m";
constexpr std::string_view yellow = "\x1b[33m";
constexpr std::string_view plain = "\x1b[0m";
constexpr std::size_t time_column_width = 12;  // "  1234.5 ms "

std::string repeat(std::string_view piece, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += piece;
  return out;
}

std::string spaces(std::size_t n) { return std::string(n, ' '); }

// One ladder line: when it happened, what it says, and its colour.
struct Row {
  Instant at{};
  std::string text;
  std::string_view color;
};

// tcpdump's option list, for SYNs (where options are negotiated): "<mss 1460,sackOK,TS,wscale 7>".
std::string options_text(const TcpOptions& o) {
  std::vector<std::string> parts;
  if (o.mss) parts.push_back(fmt::format("mss {}", *o.mss));
  if (o.sack_permitted) parts.push_back("sackOK");
  if (o.ts_val) parts.push_back("TS");
  if (o.window_scale) parts.push_back(fmt::format("wscale {}", *o.window_scale));
  if (parts.empty()) return "";
  std::string out = "<" + parts.front();
  for (std::size_t i = 1; i < parts.size(); ++i) out += "," + parts[i];
  return out + ">";
}

// Roles the flags and numbers do not already show.
std::string close_roles_text(const RoleSet& roles) {
  std::string out;
  for (Role r : {Role::handshake_ack, Role::first_fin, Role::second_fin, Role::first_fin_ack,
                 Role::final_ack}) {
    if (!roles.has(r)) continue;
    if (!out.empty()) out += ",";
    out += role_name(r);
  }
  return out.empty() ? "" : " [" + out + "]";
}

std::string segment_label(const WireEvent& w, bool many_connections,
                          std::optional<Duration> retransmission_gap) {
  std::string label = many_connections ? fmt::format("#{} ", w.info.connection + 1) : "";
  label += fmt::format("{} seq {}", w.segment.flags.tcpdump(), w.info.rel_seq);
  if (w.segment.flags.ack()) label += fmt::format(" ack {}", w.info.rel_ack);
  if (w.segment.payload_len > 0) label += fmt::format(" len {}", w.segment.payload_len);
  if (w.segment.flags.syn()) {
    const std::string options = options_text(w.segment.options);
    if (!options.empty()) label += " " + options;
  }
  label += close_roles_text(w.info.roles);
  std::vector<std::string> notes;
  if (kernel_retransmission(w)) {
    notes.push_back(retransmission_gap ? "retransmission, +" + ms_text(*retransmission_gap)
                                       : "retransmission");
  }
  if ((w.fate == Fate::delayed || w.fate == Fate::held) && (w.delivered_at || w.released))
    notes.push_back(fmt::format("{} {}", fate_name(w.fate), ms_text(arrival_time(w) - w.at)));
  if (w.fate == Fate::duplicated) notes.push_back("duplicated");
  if (w.fate == Fate::passed && !w.note.empty()) notes.push_back(w.note);  // injected by a lab action
  for (const auto& n : notes) label += " (" + n + ")";
  return label;
}

// An arrow across a lane `lane` columns wide, the label next to its sender; a dropped segment
// stops half-way (or just past its label) at an ✗, with `drop_note` beyond it.
std::string arrow(Side from, const std::string& label, std::size_t lane, bool dropped,
                  const std::string& drop_note) {
  const std::string body = from == Side::client ? "── " + label + " " : " " + label + " ──";
  const std::size_t body_cols = display_columns(body);
  const std::size_t span = std::max(dropped ? lane - lane / 2 : lane, body_cols + 3);
  const std::string shaft = repeat("─", span - body_cols - 1);
  if (from == Side::client) return body + shaft + (dropped ? "✗  " + drop_note : "▶");
  if (!dropped) return "◀" + shaft + body;
  const std::string note = drop_note + "  ";
  const std::size_t note_cols = display_columns(note);
  return spaces(lane > span + note_cols ? lane - span - note_cols : 0) + note + "✗" + shaft + body;
}

// Text at the client's edge (left) or the server's edge (right) of the lane.
std::string at_side(Side side, const std::string& text, std::size_t lane) {
  if (side == Side::client) return text;
  return spaces(lane > display_columns(text) ? lane - display_columns(text) : 0) + text;
}

std::string centered(const std::string& text, std::size_t lane) {
  const std::string note = "· " + text + " ·";
  return spaces(lane > display_columns(note) ? (lane - display_columns(note)) / 2 : 0) + note;
}

std::string state_text(const SocketEvent& e, bool restarted) {
  std::string out(state_name(e.state));
  if (restarted) out += " restarted";
  if (e.timer == SocketTimer::time_wait) out += " (timer " + seconds_text(e.expires) + ")";
  return out;
}

}  // namespace

std::string render_ladder(const Trace& trace, const LadderOptions& opts) {
  const std::size_t lane =
      opts.width > time_column_width + 40 ? opts.width - time_column_width : 40;
  const auto wires = wire_events(trace);
  const bool many_connections = std::any_of(
      wires.begin(), wires.end(), [](const WireEvent* w) { return w->info.connection > 0; });

  std::vector<Row> rows;
  std::map<TransmissionKey, Instant> last_sent;  // the gap of a retransmission is from here
  std::map<std::tuple<Side, std::uint16_t, std::uint16_t>, const SocketEvent*> last_sample;
  for (const TraceEvent& ev : trace.events) {
    if (const auto* w = std::get_if<WireEvent>(&ev)) {
      std::optional<Duration> gap;
      if (w->segment.seq_space() > 0 && !w->injected) {
        const auto key = transmission_key(*w);
        if (const auto it = last_sent.find(key); it != last_sent.end()) gap = w->at - it->second;
        last_sent[key] = w->at;
      }
      const bool dropped = w->fate == Fate::dropped;
      const std::string label = segment_label(*w, many_connections, gap);
      const std::string note = w->note.empty() ? "dropped" : w->note;
      rows.push_back({arrival_time(*w), arrow(w->info.from, label, lane, dropped, note),
                      dropped                                   ? red
                      : w->info.roles.has(Role::retransmission) ? yellow
                                                                : std::string_view{}});
    } else if (const auto* s = std::get_if<SocketEvent>(&ev)) {
      const SocketEvent*& previous = last_sample[{s->side, s->local_port, s->remote_port}];
      const bool changed = !previous || previous->state != s->state;
      const bool restarted = previous && !changed && s->state == TcpState::TIME_WAIT &&
                             timewait_restarted(*previous, *s);
      previous = s;
      if (changed || restarted)
        rows.push_back({s->at, at_side(s->side, state_text(*s, restarted), lane), {}});
    } else if (const auto* a = std::get_if<AppEvent>(&ev)) {
      std::string text = fmt::format("{}: {} → {}", side_name(a->side), a->step, a->outcome);
      if (a->bytes > 0) text += fmt::format(", {} bytes", a->bytes);
      rows.push_back({a->at, at_side(a->side, text, lane), {}});
    } else if (const auto* l = std::get_if<LabEvent>(&ev)) {
      rows.push_back({l->at, centered(l->what, lane), {}});
    }
  }
  // Delayed and held segments are drawn where they arrived, not where they were caught.
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.at < b.at; });

  std::string out =
      fmt::format("{:>11} ", "time") + "client" + spaces(lane > 12 ? lane - 12 : 1) + "server\n";
  for (const Row& row : rows) {
    out += fmt::format("{:>8.1f} ms ", std::chrono::duration<double, std::milli>(row.at).count());
    if (opts.color && !row.color.empty()) {
      out += fmt::format("{}{}{}", row.color, row.text, plain);
    } else {
      out += row.text;
    }
    out += '\n';
  }
  if (!trace.every_segment && trace.whole_wire)
    out += "(data segments no rule selects were not queued: they crossed the wire untouched; --capture all "
           "queues them)\n";
  else if (!trace.every_segment)
    out += "(data segments no rule selects were not queued, so they are not drawn: --capture all shows them)\n";
  return out;
}

}  // namespace lastack
