// The trace as JSON Lines: the writer (read back by trace_reader.cpp, beside it).
#include "lastack/trace_jsonl.hpp"

#include <optional>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/core/base/hex.hpp"
#include "harness/core/trace/trace_names.hpp"
#include "harness/core/trace/pending.hpp"

namespace lastack {
namespace {

using Json = nlohmann::ordered_json;

std::int64_t micros(Instant t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// Exact instants for a reader (replay); t_us beside them is for people and must agree.
std::int64_t nanos(Instant t) { return ns_since_start(t); }

template <typename T>
Json optional_json(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

// A connection as the trace numbers it: its index, from 0.
Json optional_json(const std::optional<ConnectionIndex>& c) { return c ? Json(c->value) : Json(nullptr); }

Json options_json(const TcpOptions& o) {
  return Json{{"mss", optional_json(o.mss)},        {"wscale", optional_json(o.window_scale)},
              {"sack_permitted", o.sack_permitted}, {"ts_val", optional_json(o.ts_val)},
              {"ts_ecr", optional_json(o.ts_ecr)},  {"sack_blocks", o.sack_blocks}};
}

// [{"fault", "line", "match", "probability", "value", "fired"}, ...]: a segment's draws.
Json draws_json(const std::vector<FaultDraw>& draws) {
  Json out = Json::array();
  for (const FaultDraw& d : draws)
    out.push_back(Json{{"fault", d.fault}, {"line", d.line}, {"match", d.match}, {"probability", d.probability},
                       {"value", d.value}, {"fired", d.fired}});
  return out;
}

// {"due_ns", "queued_ns", "delay_ns", "drop", "duplicated", "reorder", draws}: what the [link] did.
Json link_json(const LinkPassage& l) {
  Json j{{"due_ns", nanos(l.due)},
         {"queued_ns", l.queued.count()},
         {"delay_ns", l.delay.count()},
         {"drop", l.drop == LinkDrop::none ? Json(nullptr) : Json(link_drop_name(l.drop))},
         {"duplicated", l.duplicated},
         {"reorder", l.reorder}};
  const auto draw = [&j](const char* key, const std::optional<double>& v) {
    if (v) j[key] = *v;
  };
  draw("loss_draw", l.loss_draw);
  draw("duplicate_draw", l.duplicate_draw);
  draw("jitter_draw", l.jitter_draw);
  return j;
}

Json event_json(const WireEvent& w) {
  Json roles = Json::array();
  for (Role r : w.info.roles.list()) roles.push_back(role_name(r));
  Json j{{"type", "wire"},
              {"t_us", micros(w.at)},
              {"t_ns", nanos(w.at)},
              {"released_us", w.released ? Json(micros(*w.released)) : Json(nullptr)},
              {"released_ns", w.released ? Json(nanos(*w.released)) : Json(nullptr)},
              {"delivered_us", w.delivered_at ? Json(micros(*w.delivered_at)) : Json(nullptr)},
              {"delivered_ns", w.delivered_at ? Json(nanos(*w.delivered_at)) : Json(nullptr)},
              {"packet", w.packet},
              {"queued", w.queued},
              {"injected", w.injected},
              {"connection", w.info.connection.value},
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
              {"note", w.note},
              {"wire_length", w.wire_length},
              {"bytes", to_hex(w.bytes)}};
  // Only a probabilistic fault's segments: other traces read and write back byte for byte.
  if (!w.draws.empty()) j["draws"] = draws_json(w.draws);
  if (w.link) j["link"] = link_json(*w.link);
  return j;
}

// A field only traces that know it carry: older traces read and write back byte for byte.
void add_cookie(Json& j, SocketCookie cookie) {
  if (cookie != 0) j["cookie"] = cookie;
}

Json event_json(const SocketEvent& s) {
  Json j{{"type", "socket"},
              {"t_us", micros(s.at)},
              {"t_ns", nanos(s.at)},
              {"side", side_name(s.side)},
              {"connection", optional_json(s.connection)},
              {"local_port", s.local_port},
              {"remote_port", s.remote_port},
              {"state", state_name(s.state)},
              {"timer", socket_timer_name(s.timer)},
              {"expires_ms", s.expires.count()},
              {"retransmits", s.retransmits},
              {"total_retrans", s.total_retrans},
              {"rto_us", s.rto.count()}};
  if (s.rtt.count() != 0) j["rtt_us"] = s.rtt.count();  // absent from older traces, and in TIME_WAIT
  add_cookie(j, s.cookie);
  return j;
}

Json ports_json(Json j, std::optional<ConnectionIndex> connection, std::uint16_t local, std::uint16_t remote,
                SocketCookie cookie) {
  j["connection"] = optional_json(connection);
  j["local_port"] = local;
  j["remote_port"] = remote;
  add_cookie(j, cookie);
  return j;
}

Json event_json(const StateChange& c) {
  Json j{{"type", "state"}, {"t_us", micros(c.at)}, {"t_ns", nanos(c.at)},
         {"side", side_name(c.side)}, {"from", state_name(c.from)}, {"to", state_name(c.to)}};
  if (c.facts) {
    j["sk_err"] = c.facts->error;
    j["peer_fin"] = c.facts->peer_fin;
    j["orphan"] = c.facts->orphan;
    j["snd_una"] = c.facts->snd_una;
    j["rcv_nxt"] = c.facts->rcv_nxt;
  }
  return ports_json(std::move(j), c.connection, c.local_port, c.remote_port, c.cookie);
}

Json event_json(const KernelRetransmit& r) {
  Json j{{"type", "retransmit"}, {"t_us", micros(r.at)}, {"t_ns", nanos(r.at)},
         {"side", side_name(r.side)}, {"state", state_name(r.state)}, {"seq", r.seq.raw()},
         {"cause", retransmit_cause_name(r.cause)}, {"rto_us", r.rto.count()}, {"backoff", r.backoff}};
  // Only when the kernel said: traces from before it was observed read back byte for byte.
  if (r.timer_late) j["timer_late_us"] = r.timer_late->count();
  if (r.error != 0) j["error"] = r.error;
  if (r.segments > 1) {  // one skb of several segments: only then, so older traces read back byte for byte
    j["segments"] = r.segments;
    j["length"] = r.length;
  }
  return ports_json(std::move(j), r.connection, r.local_port, r.remote_port, r.cookie);
}

Json event_json(const KernelReset& r) {
  Json j{{"type", "reset"}, {"t_us", micros(r.at)}, {"t_ns", nanos(r.at)},
         {"side", side_name(r.side)}, {"state", state_name(r.state)}, {"sent", r.sent}};
  if (r.timewait_substate) j["timewait_substate"] = state_name(*r.timewait_substate);
  return ports_json(std::move(j), r.connection, r.local_port, r.remote_port, r.cookie);
}

// A command writes the agent step's fields empty (kind null), as traces always had them, in order.
Json event_json(const AppEvent& a) {
  const AgentStepFacts* s = a.agent_step();
  Json j{{"type", "app"},  {"t_us", micros(a.at)}, {"t_ns", nanos(a.at)}, {"side", side_name(a.side)},
         {"step", a.step}, {"outcome", a.outcome}, {"bytes", a.bytes},
         {"kind", s ? Json(step_kind_name(s->kind)) : Json(nullptr)},
         {"result", step_result_name(a.result)}, {"errno", a.error}, {"verified", s && s->verified}};
  j["corrupted"] = s && s->corrupted ? Json{{"begin", s->corrupted->begin}, {"end", s->corrupted->end}} : Json(nullptr);
  j["corrupted_from"] = s && s->corrupted_from ? Json{{"side", side_name(s->corrupted_from->side)},
                                                      {"connection", s->corrupted_from->stream},
                                                      {"offset", s->corrupted_from->offset}}
                                               : Json(nullptr);
  // Only exec's commands have these: traces without them (agent runs, older files) read the same.
  if (const CommandFacts* c = a.command(); c && c->exit_status) {
    j["exit_status"] = *c->exit_status;
    j["output"] = c->output;
    j["output_truncated"] = c->output_truncated;
  }
  return j;
}

Json event_json(const LabEvent& l) {
  Json j{{"type", "lab"},
         {"t_us", micros(l.at)},
         {"t_ns", nanos(l.at)},
         {"what", l.what},
         {"kind", lab_event_kind_name(l.kind)},
         {"side", l.side ? Json(side_name(*l.side)) : Json(nullptr)},
         {"count", l.count}};
  // Only when set: traces recorded before causes existed read and write back byte for byte.
  if (l.cause) j["cause"] = harness_cause_name(*l.cause);
  if (l.fault) j["fault"] = *l.fault;  // an index into the run's faults, as a wire event's "fault"
  // A control event's request, as an object (the string holds it as JSON, keys sorted).
  if (!l.request.empty()) j["request"] = Json::parse(l.request, nullptr, false);
  return j;
}

Json check_json(const CheckResult& r) {
  return Json{{"type", "check"},        {"name", r.name}, {"outcome", outcome_key(r.outcome)},
              {"passed", r.passed()},    {"expected", r.expected},
              {"saw", r.saw},            {"line", r.line}, {"builtin", r.builtin}};
}

void write_line(const Json& j, std::ostream& out) {
  // Notes and app text come from outside: never let a stray byte abort the report.
  out << j.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
}

}  // namespace

namespace {

// {"client": ..., "server": ...}: each side's value, as `to_json` writes it.
template <typename T, typename ToJson>
Json per_side_json(const PerSide<T>& v, ToJson to_json) {
  return Json{{"client", to_json(v.client)}, {"server", to_json(v.server)}};
}

template <typename T>
Json per_side_json(const PerSide<T>& v) {
  return per_side_json(v, [](const T& x) { return Json(x); });
}

// [[start_ns, end_ns], ...]: one pair per sock_diag sample.
Json samples_json(const std::vector<SocketSample>& samples) {
  Json out = Json::array();
  for (const SocketSample& s : samples) out.push_back(Json::array({nanos(s.start), nanos(s.end)}));
  return out;
}

// What was still pending at the end: [{"kind", "side", "cookie", "local_port", "remote_port",
// "connection", "due_ns"}, ...].
Json pending_json(const std::vector<PendingEvidence>& pending) {
  Json out = Json::array();
  for (const PendingEvidence& p : pending)
    out.push_back(Json{{"kind", pending_kind_key(p.kind)},
                       {"side", p.side ? Json(side_name(*p.side)) : Json(nullptr)},
                       {"cookie", p.cookie},
                       {"local_port", p.local_port},
                       {"remote_port", p.remote_port},
                       {"connection", optional_json(p.connection)},
                       {"due_ns", nanos(p.due)}});
  return out;
}

}  // namespace

// One direction of the run's [link], as it ran: every setting, unset ones null.
Json link_direction_json(const LinkDirection& d) {
  return Json{{"latency_ms", d.latency.count()}, {"jitter_ms", d.jitter.count()}, {"reorder", d.reorder},
              {"rate_bps", optional_json(d.rate)},   {"queue_bytes", optional_json(d.queue_bytes)},
              {"queue_segments", optional_json(d.queue_segments)}, {"loss", d.loss}, {"duplicate", d.duplicate}};
}

nlohmann::ordered_json trace_header_json(const Trace& trace) {
  Json addresses = Json::array();
  for (const IpAddress& a : trace.client_addresses) addresses.push_back(a.str());
  Json header{
      {"type", "run"},
      {"policy", trace.policy},
      {"format", jsonl_format},
      {"ipv6", trace.ipv6},
      {"kernel", trace.kernel},
      {"sysctls", per_side_json(trace.sysctls)},
      {"queue_drops", trace.queue_drops},
      {"every_segment", trace.every_segment},
      {"whole_wire", trace.whole_wire},
      {"kernel_source", kernel_source_name(trace.kernel_source)},
      {"sampling_note", observation_note(trace).empty() ? Json(nullptr) : Json(observation_note(trace))},
      {"jiffy_us", trace.jiffy.count()},
      {"sample_interval_us", trace.sample_interval.count()},
      {"wire_resolution_us", trace.wire_resolution.count()},
      {"observed_until_ns", trace.observed_until ? Json(nanos(*trace.observed_until)) : Json(nullptr)},
      {"timewait_overflow", per_side_json(trace.timewait_overflow, optional_json<std::uint64_t>)},
      {"wall_start_ns", trace.wall_start.time_since_epoch().count()},
      {"client_addresses", addresses}};
  // Only when known: traces recorded before it existed read and write back byte for byte.
  if (trace.run_end) header["run_end_ns"] = nanos(*trace.run_end);
  if (trace.random_seed) header["random_seed"] = *trace.random_seed;
  if (trace.link)
    header["link"] = Json{{"line", trace.link->line},
                          {"client-to-server", link_direction_json(trace.link->from[Side::client])},
                          {"server-to-client", link_direction_json(trace.link->from[Side::server])}};
  if (!trace.samples.client.empty() || !trace.samples.server.empty())
    header["socket_samples"] = per_side_json(trace.samples, samples_json);
  if (trace.final_sample_lists_all) header["final_sample_lists_all"] = true;
  if (!trace.pending_at_end.empty()) header["pending_at_end"] = pending_json(trace.pending_at_end);
  if (trace.segments_after_end.client || trace.segments_after_end.server)
    header["segments_after_end"] = per_side_json(trace.segments_after_end);
  if (trace.counters.client || trace.counters.server)
    header["kernel_counters"] = per_side_json(trace.counters, optional_json<CounterDeltas>);
  return header;
}

nlohmann::ordered_json trace_event_json(const TraceEvent& event) {
  return std::visit([](const auto& ev) { return event_json(ev); }, event);
}

void write_jsonl(const Trace& trace, const std::vector<CheckResult>& results, std::ostream& out) {
  Json header = trace_header_json(trace);
  header["verdict"] = results.empty() ? Json(nullptr) : Json(verdict_label(run_verdict(results)));
  write_line(header, out);
  for (const TraceEvent& e : trace.events) write_line(trace_event_json(e), out);
  for (const CheckResult& r : results) write_line(check_json(r), out);
}

}  // namespace lastack
