// The ladder diagram: the client's column on the left, the server's on the right, one arrow
// per wire segment (drawn when it reached its receiver), states, app steps and lab notes.
#include "lastack/ladder.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "harness/core/report/ladder_model.hpp"
#include "harness/core/trace/connection_scope.hpp"
#include "harness/core/base/duration_text.hpp"
#include "harness/core/oracle/per_connection.hpp"
#include "harness/core/base/text_columns.hpp"
#include "harness/core/trace/trace_query.hpp"

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
  std::optional<ConnectionIndex> connection;  // whose row it is, with many connections
  bool routine = false;                   // an app step that ended as expected
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

// Why the kernel resent, in words, for the ladder.
std::string cause_text(const KernelRetransmit& k) {
  switch (k.cause) {
    case RetransmitCause::rto:
      return k.backoff > 0 ? fmt::format("RTO, backoff {}", k.backoff) : std::string("RTO");
    case RetransmitCause::loss_probe: return "tail-loss probe";
    case RetransmitCause::fast: return "fast retransmit";
    case RetransmitCause::synack: return "SYN-ACK timer";
  }
  return "";
}

std::string segment_label(const WireEvent& w, bool many_connections,
                          std::optional<Duration> retransmission_gap, const KernelRetransmit* cause) {
  std::string label = many_connections ? fmt::format("#{} ", number_of(w.info.connection).value) : "";
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
    std::string note = retransmission_gap ? "retransmission, +" + ms_text(*retransmission_gap)
                                          : "retransmission";
    if (cause) note += ", " + cause_text(*cause);
    notes.push_back(note);
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

// A state's line where its band starts: its label (state_label's words) and timer; where the
// start came from the wire, that segment; "inferred" when the wire alone drew it.
std::string state_line(const StateBand& b) {
  std::string out = state_label(b.state, b.form);
  if (b.source == StateSource::inferred) return out + " (inferred from the wire)";
  if (b.from_wire) return out + (b.state == TcpState::SYN_RECV ? " (from the SYN's arrival, wire)" : " (from the FIN's arrival, wire)");
  if (b.timer) out += " (timer " + seconds_text(*b.timer) + ")";
  return out;
}

// The line where a state begun on the wire gets the kernel's word, when that is a sample of its
// own (a traced request's is its child's line): "timewait socket in TIME_WAIT (timer 60.0 s, sampled)".
std::optional<std::string> evidence_line(const StateBand& b) {
  if (!b.from_wire || b.source != StateSource::sampled) return std::nullopt;
  std::string out = state_label(b.state, b.form) + " (";
  if (b.timer) out += "timer " + seconds_text(*b.timer) + ", ";
  return out + "sampled)";
}

// The kernel's retransmission of a wire segment: the last one by its sender of its first
// sequence number at or before the segment reached the interceptor, not yet given to another.
class RetransmitCauses {
 public:
  explicit RetransmitCauses(const Trace& trace) {
    for (const TraceEvent& ev : trace.events)
      if (const auto* k = std::get_if<KernelRetransmit>(&ev)) all_.push_back(k);
  }
  /// The kernel event `w` was sent for, or nullptr.
  const KernelRetransmit* take(const WireEvent& w) {
    const KernelRetransmit* best = nullptr;
    for (const KernelRetransmit* k : all_)
      if (!used_.count(k) && k->side == w.info.from && k->seq == w.segment.seq && k->at <= w.at) best = k;
    if (best) used_.insert(best);
    return best;
  }
  /// Whether a wire segment already shows `k`.
  bool shown(const KernelRetransmit* k) const { return used_.count(k) > 0; }

 private:
  std::vector<const KernelRetransmit*> all_;
  std::set<const KernelRetransmit*> used_;
};

std::string print_row(const Row& row, bool color) {
  std::string out = fmt::format("{:>8.1f} ms ", std::chrono::duration<double, std::milli>(row.at.time_since_epoch()).count());
  out += color && !row.color.empty() ? fmt::format("{}{}{}", row.color, row.text, plain) : row.text;
  return out + '\n';
}

// The header and one line per row, its time first.
std::string print_rows(const std::vector<Row>& rows, std::size_t lane, bool color) {
  std::string out =
      fmt::format("{:>11} ", "time") + "client" + spaces(lane > 12 ? lane - 12 : 1) + "server\n";
  for (const Row& row : rows) out += print_row(row, color);
  return out;
}

// "198.18.1.2:40312", "[fd00:1::2]:40312".
std::string endpoint_text(const IpAddress& a, std::uint16_t port) {
  return a.family == IpFamily::v6 ? fmt::format("[{}]:{}", a.str(), port) : fmt::format("{}:{}", a.str(), port);
}

// "── connection 2: 198.18.1.2:40312 → 198.18.2.2:8000", from the connection's first segment.
std::string connection_header(const WireEvent& first) {
  const Segment& s = first.segment;
  const bool from_client = first.info.from == Side::client;
  return fmt::format("── connection {}: {} → {}\n", number_of(first.info.connection).value,
                     from_client ? endpoint_text(s.src, s.sport) : endpoint_text(s.dst, s.dport),
                     from_client ? endpoint_text(s.dst, s.dport) : endpoint_text(s.src, s.sport));
}

// Past fold_above connections the ladder draws the first few; the verdict table judges each.
constexpr std::size_t drawn_when_many = 3;

// Many connections: each one's rows under its own header, in order of first appearance, then
// the rows no connection owns (the commands' and agents' steps, lab notes). With more than
// fold_above connections, only the first drawn_when_many are drawn, and the agents' routine
// steps are counted rather than listed.
std::string print_grouped_rows(const std::vector<Row>& rows, const std::vector<const WireEvent*>& wires,
                               std::size_t lane, bool color) {
  std::string out =
      fmt::format("{:>11} ", "time") + "client" + spaces(lane > 12 ? lane - 12 : 1) + "server\n";
  std::map<ConnectionIndex, std::vector<const Row*>> by_connection;
  for (const Row& row : rows)
    if (row.connection) by_connection[*row.connection].push_back(&row);
  std::vector<const WireEvent*> firsts;  // each connection's first segment, in wire order
  std::set<ConnectionIndex> seen;
  for (const WireEvent* w : wires)
    if (seen.insert(w->info.connection).second) firsts.push_back(w);
  const bool many = firsts.size() > fold_above;
  for (std::size_t i = 0; i < firsts.size(); ++i) {
    if (many && i == drawn_when_many) {
      out += fmt::format("── connections {} to {}: not drawn ({} in all; the verdicts judge each one, and "
                         "--json, --pcap and --html have every segment)\n",
                         i + 1, firsts.size(), firsts.size());
      break;
    }
    out += connection_header(*firsts[i]);
    for (const Row* row : by_connection[firsts[i]->info.connection]) out += print_row(*row, color);
  }
  const bool unowned = std::any_of(rows.begin(), rows.end(), [](const Row& r) { return !r.connection; });
  if (unowned) out += "── the run (no one connection)\n";
  std::size_t routine = 0;
  for (const Row& row : rows) {
    if (row.connection) continue;
    if (many && row.routine) ++routine;
    else out += print_row(row, color);
  }
  if (routine > 0) out += fmt::format("{:>11} {} agent steps ended as expected (not listed)\n", "", routine);
  return out;
}

}  // namespace

std::string render_ladder(const Trace& trace, const LadderOptions& opts) {
  const std::size_t lane =
      opts.width > time_column_width + 40 ? opts.width - time_column_width : 40;
  const auto wires = wire_events(trace);
  const bool many_connections = several_connections(wires);

  std::vector<Row> rows;
  std::map<TransmissionKey, Instant> last_sent;  // the gap of a retransmission is from here
  RetransmitCauses causes(trace);
  const auto owners = many_connections ? event_connections(trace) : std::vector<std::optional<ConnectionIndex>>{};
  for (std::size_t i = 0; i < trace.events.size(); ++i) {
    const TraceEvent& ev = trace.events[i];
    const std::size_t before = rows.size();
    if (const auto* w = std::get_if<WireEvent>(&ev)) {
      std::optional<Duration> gap;
      if (w->segment.seq_space() > 0 && !w->injected) {
        const auto key = transmission_key(*w);
        if (const auto it = last_sent.find(key); it != last_sent.end()) gap = w->at - it->second;
        last_sent[key] = w->at;
      }
      const bool dropped = w->fate == Fate::dropped;
      const KernelRetransmit* cause = kernel_retransmission(*w) ? causes.take(*w) : nullptr;
      const std::string label = segment_label(*w, many_connections, gap, cause);
      const std::string note = w->note.empty() ? "dropped" : w->note;
      rows.push_back({arrival_time(*w), arrow(w->info.from, label, lane, dropped, note),
                      dropped                                   ? red
                      : w->info.roles.has(Role::retransmission) ? yellow
                                                                : std::string_view{}});
    } else if (const auto* r = std::get_if<KernelReset>(&ev)) {
      if (!r->sent)
        rows.push_back({r->at, at_side(r->side, fmt::format("RST accepted in {}", state_name(r->state)), lane), {}});
    } else if (const auto* a = std::get_if<AppEvent>(&ev)) {
      std::string text = fmt::format("{}: {} → {}", side_name(a->side), a->step, a->outcome);
      if (a->bytes > 0) text += fmt::format(", {} bytes", a->bytes);
      const AgentStepFacts* s = a->agent_step();
      const bool corrupted = s && s->corrupted;
      if (corrupted) text += fmt::format(", CORRUPTED bytes {}..{}", s->corrupted->begin, s->corrupted->end);
      const bool expected = s && a->result == (s->kind == StepKind::recv_until_eof ? StepResult::eof : StepResult::ok);
      rows.push_back({a->at, at_side(a->side, text, lane), {}, std::nullopt, expected && !corrupted});
    } else if (const auto* l = std::get_if<LabEvent>(&ev)) {
      rows.push_back({l->at, centered(l->what, lane), {}});
    }
    if (many_connections && rows.size() > before) rows.back().connection = owners[i];
  }
  // Each socket's states, from its state history (the bands of the HTML page, in words); a
  // socket no connection on the wire is (a proxy's backend) is not drawn in the lanes.
  for (const StateBand& b : state_bands(trace, true)) {
    const auto owner = many_connections ? std::optional<ConnectionIndex>(b.connection) : std::nullopt;
    rows.push_back({b.start, at_side(b.side, state_line(b), lane), {}, owner});
    if (const auto line = evidence_line(b)) rows.push_back({b.evidence_at, at_side(b.side, *line, lane), {}, owner});
    for (Instant r : b.timer_restarts)
      rows.push_back({r, at_side(b.side, state_label(b.state, b.form) + ": timer restarted", lane), {}, owner});
  }
  // A retransmission no drawn segment shows (not queued): the kernel's word, at its side.
  for (std::size_t i = 0; i < trace.events.size(); ++i)
    if (const auto* k = std::get_if<KernelRetransmit>(&trace.events[i]); k && !causes.shown(k))
      rows.push_back({k->at, at_side(k->side, fmt::format("retransmits in {} ({})", state_name(k->state),
                                                          cause_text(*k)), lane), {yellow},
                      many_connections ? owners[i] : std::nullopt});
  // Delayed and held segments are drawn where they arrived, not where they were caught.
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.at < b.at; });

  std::string out = many_connections ? print_grouped_rows(rows, wires, lane, opts.color)
                                     : print_rows(rows, lane, opts.color);
  for (const std::string& line : kernel_counter_lines(trace)) out += line + "\n";
  if (trace.kernel_source == KernelSource::sampled) out += fmt::format("({})\n", sampling_note);
  if (!trace.every_segment && trace.whole_wire)
    out += "(data segments no rule selects were not queued: they crossed the wire untouched; --capture all "
           "queues them)\n";
  else if (!trace.every_segment)
    out += "(data segments no rule selects were not queued, so they are not drawn: --capture all shows them)\n";
  return out;
}

}  // namespace lastack
