// Reports from a finished run: the verdict table and the trace as JSON Lines.
// (The ladder diagram is in ladder.cpp.)
#include "harness/core/report.hpp"

#include <algorithm>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/core/text_columns.hpp"

namespace lastack {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::size_t verdict_width = 100;  // the terminal the table is laid out for
constexpr std::size_t max_name_width = 32;  // keeps "type" first, as a reader scans for it

std::string_view timer_name(SocketTimer t) {
  switch (t) {
    case SocketTimer::none: return "none";
    case SocketTimer::retransmit: return "retransmit";
    case SocketTimer::keepalive: return "keepalive";
    case SocketTimer::time_wait: return "time_wait";
    case SocketTimer::probe: return "probe";
  }
  return "unknown";
}

std::int64_t micros(Instant t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t).count();
}

template <typename T>
Json optional_json(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json options_json(const TcpOptions& o) {
  return Json{{"mss", optional_json(o.mss)},        {"wscale", optional_json(o.window_scale)},
              {"sack_permitted", o.sack_permitted}, {"ts_val", optional_json(o.ts_val)},
              {"ts_ecr", optional_json(o.ts_ecr)},  {"sack_blocks", o.sack_blocks}};
}

Json event_json(const WireEvent& w) {
  Json roles = Json::array();
  for (Role r : w.info.roles.list()) roles.push_back(role_name(r));
  return Json{{"type", "wire"},
              {"t_us", micros(w.at)},
              {"released_us", w.released ? Json(micros(*w.released)) : Json(nullptr)},
              {"delivered_us", w.delivered_at ? Json(micros(*w.delivered_at)) : Json(nullptr)},
              {"packet", w.packet},
              {"queued", w.queued},
              {"injected", w.injected},
              {"connection", w.info.connection},
              {"from", side_name(w.info.from)},
              {"src", w.segment.src.str()},
              {"dst", w.segment.dst.str()},
              {"sport", w.segment.sport},
              {"dport", w.segment.dport},
              {"flags", w.segment.flags.tcpdump()},
              {"seq", w.segment.seq.raw()},
              {"ack", w.segment.ack.raw()},
              {"rel_seq", w.info.rel_seq},
              {"rel_ack", w.info.rel_ack},
              {"len", w.segment.payload_len},
              {"win", w.segment.window},
              {"options", options_json(w.segment.options)},
              {"roles", roles},
              {"fate", fate_name(w.fate)},
              {"fault", optional_json(w.fault)},
              {"note", w.note}};
}

Json event_json(const SocketEvent& s) {
  return Json{{"type", "socket"},
              {"t_us", micros(s.at)},
              {"side", side_name(s.side)},
              {"connection", optional_json(s.connection)},
              {"local_port", s.local_port},
              {"remote_port", s.remote_port},
              {"state", state_name(s.state)},
              {"timer", timer_name(s.timer)},
              {"expires_ms", s.expires.count()},
              {"retransmits", s.retransmits},
              {"total_retrans", s.total_retrans},
              {"rto_us", s.rto.count()}};
}

Json ports_json(Json j, std::optional<std::size_t> connection, std::uint16_t local, std::uint16_t remote) {
  j["connection"] = optional_json(connection);
  j["local_port"] = local;
  j["remote_port"] = remote;
  return j;
}

Json event_json(const StateChange& c) {
  return ports_json(Json{{"type", "state"}, {"t_us", micros(c.at)}, {"side", side_name(c.side)},
                         {"from", state_name(c.from)}, {"to", state_name(c.to)}},
                    c.connection, c.local_port, c.remote_port);
}

Json event_json(const KernelRetransmit& r) {
  return ports_json(Json{{"type", "retransmit"}, {"t_us", micros(r.at)}, {"side", side_name(r.side)},
                         {"state", state_name(r.state)}, {"seq", r.seq.raw()},
                         {"cause", retransmit_cause_name(r.cause)}, {"rto_us", r.rto.count()},
                         {"backoff", r.backoff}},
                    r.connection, r.local_port, r.remote_port);
}

Json event_json(const KernelReset& r) {
  return ports_json(Json{{"type", "reset"}, {"t_us", micros(r.at)}, {"side", side_name(r.side)},
                         {"state", state_name(r.state)}, {"sent", r.sent}},
                    r.connection, r.local_port, r.remote_port);
}

Json event_json(const AppEvent& a) {
  return Json{{"type", "app"},  {"t_us", micros(a.at)}, {"side", side_name(a.side)},
              {"step", a.step}, {"outcome", a.outcome}, {"bytes", a.bytes}};
}

Json event_json(const LabEvent& l) {
  return Json{{"type", "lab"}, {"t_us", micros(l.at)}, {"what", l.what}};
}

Json check_json(const CheckResult& r) {
  return Json{{"type", "check"}, {"name", r.name}, {"passed", r.passed},  {"expected", r.expected},
              {"saw", r.saw},    {"line", r.line}, {"builtin", r.builtin}};
}

void write_line(const Json& j, std::ostream& out) {
  // Notes and app text come from outside: never let a stray byte abort the report.
  out << j.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
}

}  // namespace

std::string render_verdicts(const std::vector<CheckResult>& results, bool color) {
  std::vector<const CheckResult*> ordered;
  for (const auto& r : results) ordered.push_back(&r);
  std::stable_partition(ordered.begin(), ordered.end(),
                        [](const CheckResult* r) { return r->builtin; });
  std::size_t name_width = 0;
  for (const CheckResult* r : ordered) name_width = std::max(name_width, display_columns(r->name));
  name_width = std::min(name_width, max_name_width);
  const std::size_t indent = 4 + 2 + 10 + 1 + name_width + 2;  // status, origin, name, gaps

  std::string out;
  std::size_t failed = 0;
  for (const CheckResult* r : ordered) {
    failed += r->passed ? 0 : 1;
    const std::string status = r->passed ? "PASS" : "FAIL";
    const std::string origin = r->builtin ? "invariant" : fmt::format("policy:{}", r->line);
    std::string name = r->name;
    // A name too long for its column gets the line to itself; the detail starts below.
    const bool long_name = display_columns(name) > name_width;
    if (!long_name) name += std::string(name_width - display_columns(name), ' ');
    out += color ? fmt::format("{}{}\x1b[0m", r->passed ? "\x1b[32m" : "\x1b[31m", status) : status;
    out += fmt::format("  {:<10} {}", origin, name);
    const std::string detail =
        r->passed ? r->saw : fmt::format("expected: {}; saw: {}", r->expected, r->saw);
    // Details wrap under their own column, so the table stays readable in 100 columns.
    const auto lines = wrap_columns(detail, verdict_width - indent);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (i > 0 || long_name)
        out += "\n" + std::string(indent, ' ');
      else
        out += "  ";
      out += lines[i];
    }
    out += '\n';
  }
  out += failed == 0 ? fmt::format("{} checks: {} passed\n", ordered.size(), ordered.size())
                     : fmt::format("{} checks: {} failed\n", ordered.size(), failed);
  return out;
}

void write_jsonl(const Trace& trace, const std::vector<CheckResult>& results, std::ostream& out) {
  write_line(
      Json{{"type", "run"},
           {"policy", trace.policy},
           {"ipv6", trace.ipv6},
           {"kernel", trace.kernel},
           {"sysctls", Json{{"client", trace.client_sysctls}, {"server", trace.server_sysctls}}},
           {"queue_drops", trace.queue_drops},
           {"every_segment", trace.every_segment},
           {"whole_wire", trace.whole_wire}},
      out);
  for (const TraceEvent& e : trace.events)
    write_line(std::visit([](const auto& ev) { return event_json(ev); }, e), out);
  for (const CheckResult& r : results) write_line(check_json(r), out);
}

}  // namespace lastack
