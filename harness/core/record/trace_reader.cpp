// JSON Lines back into the trace model. Each line is read into its typed event from the fields
// that are the run's record (times, fates, notes, kernel and app events); a wire event's segment
// and classification come from its bytes, through parse_segment and a FlowTracker, as in a run.
// Then the line the writer would write for the event is compared with the line in the file:
// every recorded field must agree, so a hand edit that the bytes contradict is an error, not a
// silent disagreement.
#include "harness/core/record/trace_reader.hpp"

#include <set>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lastack/error.hpp"
#include "lastack/flow_tracker.hpp"
#include "harness/core/record/json_fields.hpp"
#include "lastack/trace_jsonl.hpp"
#include "harness/core/trace/retransmission_labels.hpp"
#include "harness/core/trace/trace_names.hpp"
#include "harness/core/trace/pending.hpp"

namespace lastack {
namespace {

using Json = nlohmann::json;

// Wire fields the bytes and the tracker decide; the others are the run's own record.
const std::set<std::string, std::less<>> derived_wire_fields = {
    "connection", "from", "src", "dst",     "sport", "dport", "flags", "seq",
    "ack",        "len",  "win", "options", "roles", "rel_seq", "rel_ack"};

// A value compared by content: object key order and integer signedness do not matter.
Json comparable(const nlohmann::ordered_json& v) {
  return Json::parse(v.dump(-1, ' ', false, Json::error_handler_t::replace));
}

// A kernel event's connection as the trace numbers it (its index, from 0); null: not placed.
std::optional<ConnectionIndex> optional_connection(const JsonFields& f) {
  const auto index = f.optional_number<std::size_t>("connection");
  return index ? std::optional(ConnectionIndex{*index}) : std::nullopt;
}

std::string quoted(const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace); }

// Every field the writer writes for `event` must be in the line, with the same value.
// Header keys a hand-written trace may leave out: the reader gives them this machine's defaults.
const std::set<std::string, std::less<>> defaulted_header_fields = {
    "jiffy_us", "sample_interval_us", "wire_resolution_us", "observed_until_ns", "run_end_ns", "sampling_note"};

void agree(const JsonFields& f, const nlohmann::ordered_json& written, bool wire) {
  for (const auto& [key, value] : written.items()) {
    if (!wire && defaulted_header_fields.contains(key) && !f.has(key)) continue;
    const Json& recorded = f.raw(key);
    const Json derived = comparable(value);
    if (recorded == derived) continue;
    const bool from_bytes = wire && derived_wire_fields.contains(key);
    f.fail(fmt::format("{} is {} in the file, but {} {}", f.name(key), quoted(recorded),
                       from_bytes ? "the bytes re-parse and re-classify as" : "it reads back as",
                       quoted(derived)));
  }
}

Segment parse_bytes(const JsonFields& f, const std::vector<std::uint8_t>& bytes) {
  try {
    return parse_segment(bytes);
  } catch (const ParseError& e) {
    f.fail(fmt::format("{} is not a TCP segment: {}", f.name("bytes"), e.what()));
  }
}

// "draws": a probabilistic fault's draws for the segment (absent: none).
std::vector<FaultDraw> read_draws(const JsonFields& f) {
  std::vector<FaultDraw> out;
  if (!f.has("draws")) return out;
  const Json& list = f.raw("draws");
  if (!list.is_array()) f.fail(fmt::format("{} is not a list", f.name("draws")));
  for (const Json& item : list) {
    if (!item.is_object()) f.fail(fmt::format("{} holds something that is not an object", f.name("draws")));
    const JsonFields d(item, f.where(), "draws");
    out.push_back({d.number<std::size_t>("fault"), d.number<std::size_t>("line"), d.number<std::uint64_t>("match"),
                   d.real("probability"), d.real("value"), d.flag("fired")});
  }
  return out;
}

std::optional<LinkDrop> link_drop_from_name(std::string_view name) {
  for (const LinkDrop d : {LinkDrop::loss, LinkDrop::queue_full, LinkDrop::held_limit})
    if (link_drop_name(d) == name) return d;
  return std::nullopt;
}

// "link": what the [link] did to the segment (absent: no link).
std::optional<LinkPassage> read_link(const JsonFields& f) {
  if (!f.has("link")) return std::nullopt;
  const JsonFields l = f.object("link");
  LinkPassage p;
  p.due = l.instant("due_ns");
  p.queued = Duration(l.number<std::int64_t>("queued_ns"));
  p.delay = Duration(l.number<std::int64_t>("delay_ns"));
  if (!l.raw("drop").is_null()) p.drop = l.word("drop", link_drop_from_name, "link drop");
  p.duplicated = l.flag("duplicated");
  p.reorder = l.flag("reorder");
  const auto draw = [&l](const char* key) { return l.has(key) ? std::optional(l.real(key)) : std::nullopt; };
  p.loss_draw = draw("loss_draw");
  p.duplicate_draw = draw("duplicate_draw");
  p.jitter_draw = draw("jitter_draw");
  return p;
}

WireEvent read_wire(const JsonFields& f, FlowTracker& tracker) {
  WireEvent w;
  w.at = f.instant("t_ns");
  w.released = f.optional_instant("released_ns");
  w.delivered_at = f.optional_instant("delivered_ns");
  w.packet = f.number<std::uint64_t>("packet");
  w.queued = f.flag("queued");
  w.injected = f.flag("injected");
  w.fate = f.word("fate", fate_from_name, "fate");
  w.fault = f.optional_number<std::size_t>("fault");
  w.note = f.text("note");
  w.draws = read_draws(f);
  w.link = read_link(f);
  w.wire_length = f.number<std::uint32_t>("wire_length");
  w.bytes = f.hex("bytes");
  if (w.wire_length < w.bytes.size())
    f.fail(fmt::format("\"wire_length\" {} is shorter than the {} bytes captured", w.wire_length,
                       w.bytes.size()));
  w.segment = parse_bytes(f, w.bytes);
  w.info = tracker.observe(w.segment, w.injected);
  return w;
}

// Absent from traces written before sockets were named by their cookies (then 0: unknown).
SocketCookie cookie_of(const JsonFields& f) { return f.has("cookie") ? f.number<SocketCookie>("cookie") : 0; }

SocketEvent read_socket(const JsonFields& f) {
  SocketEvent s;
  s.at = f.instant("t_ns");
  s.side = f.word("side", side_from_name, "side");
  s.connection = optional_connection(f);
  s.local_port = f.number<std::uint16_t>("local_port");
  s.remote_port = f.number<std::uint16_t>("remote_port");
  s.state = f.word("state", state_from_trace_name, "TCP state");
  s.timer = f.word("timer", socket_timer_from_name, "socket timer");
  s.expires = Millis(f.number<std::int64_t>("expires_ms"));
  s.retransmits = f.number<std::uint8_t>("retransmits");
  s.total_retrans = f.number<std::uint32_t>("total_retrans");
  s.rto = std::chrono::microseconds(f.number<std::int64_t>("rto_us"));
  if (f.has("rtt_us")) s.rtt = std::chrono::microseconds(f.number<std::int64_t>("rtt_us"));
  s.cookie = cookie_of(f);
  return s;
}

// The fields every kernel event shares: when, which side, which socket.
template <typename E>
E read_kernel_socket(const JsonFields& f) {
  E e;
  e.at = f.instant("t_ns");
  e.side = f.word("side", side_from_name, "side");
  e.connection = optional_connection(f);
  e.local_port = f.number<std::uint16_t>("local_port");
  e.remote_port = f.number<std::uint16_t>("remote_port");
  e.cookie = cookie_of(f);
  return e;
}

StateChange read_state_change(const JsonFields& f) {
  auto c = read_kernel_socket<StateChange>(f);
  c.from = f.word("from", state_from_trace_name, "TCP state");
  c.to = f.word("to", state_from_trace_name, "TCP state");
  if (f.has("sk_err"))
    c.facts = StateChange::Facts{f.number<int>("sk_err"), f.flag("peer_fin"), f.flag("orphan"),
                                 f.number<std::uint32_t>("snd_una"), f.number<std::uint32_t>("rcv_nxt")};
  return c;
}

KernelRetransmit read_kernel_retransmit(const JsonFields& f) {
  auto r = read_kernel_socket<KernelRetransmit>(f);
  r.state = f.word("state", state_from_trace_name, "TCP state");
  r.seq = SeqNum(f.number<std::uint32_t>("seq"));
  r.cause = f.word("cause", retransmit_cause_from_name, "retransmission cause");
  r.rto = std::chrono::microseconds(f.number<std::int64_t>("rto_us"));
  r.backoff = f.number<std::uint8_t>("backoff");
  // Absent from traces written before it was observed.
  if (f.has("timer_late_us"))
    if (auto late = f.optional_number<std::int64_t>("timer_late_us")) r.timer_late = std::chrono::microseconds(*late);
  if (f.has("error")) r.error = f.number<int>("error");
  if (f.has("segments")) {
    r.segments = f.number<std::uint16_t>("segments");
    r.length = f.number<std::uint32_t>("length");
  }
  return r;
}

KernelReset read_kernel_reset(const JsonFields& f) {
  auto r = read_kernel_socket<KernelReset>(f);
  r.state = f.word("state", state_from_trace_name, "TCP state");
  r.sent = f.flag("sent");
  if (f.has("timewait_substate")) r.timewait_substate = f.word("timewait_substate", state_from_trace_name, "TCP state");
  return r;
}

// An agent step's own fields (its kind is not null).
AgentStepFacts read_agent_step(const JsonFields& f) {
  AgentStepFacts s;
  s.kind = f.word("kind", step_kind_from_name, "step kind");
  s.verified = f.flag("verified");
  if (!f.raw("corrupted").is_null()) {
    const JsonFields range = f.object("corrupted");
    s.corrupted = ByteRange{range.number<std::uint64_t>("begin"), range.number<std::uint64_t>("end")};
  }
  if (!f.raw("corrupted_from").is_null()) {
    const JsonFields from = f.object("corrupted_from");
    s.corrupted_from = PatternOrigin{from.word("side", side_from_name, "side"),
                                     from.number<std::uint32_t>("connection"),
                                     from.number<std::uint64_t>("offset")};
  }
  return s;
}

// A command's own fields: exec's exit status and output; an in-process function has none.
CommandFacts read_command(const JsonFields& f) {
  CommandFacts c;
  if (f.has("exit_status")) {
    c.exit_status = f.number<int>("exit_status");
    c.output = f.text_list("output");
    c.output_truncated = f.flag("output_truncated");
  }
  return c;
}

AppEvent read_app(const JsonFields& f) {
  AppEvent a{f.instant("t_ns"), f.word("side", side_from_name, "side"), f.text("step"),
             f.text("outcome"), f.number<std::uint64_t>("bytes")};
  a.result = f.word("result", step_result_from_name, "step result");
  a.error = f.number<int>("errno");
  if (f.raw("kind").is_null())
    a.facts = read_command(f);
  else
    a.facts = read_agent_step(f);
  return a;
}

LabEvent read_lab(const JsonFields& f) {
  LabEvent l;
  l.at = f.instant("t_ns");
  l.what = f.text("what");
  l.kind = f.word("kind", lab_event_kind_from_name, "lab event kind");
  if (!f.raw("side").is_null()) l.side = f.word("side", side_from_name, "side");
  l.count = f.number<std::uint64_t>("count");
  if (f.has("cause")) l.cause = f.word("cause", harness_cause_from_name, "harness error cause");
  if (f.has("fault")) l.fault = f.number<std::size_t>("fault");
  if (f.has("request")) {
    if (!f.raw("request").is_object()) f.fail(fmt::format("{} is not an object", f.name("request")));
    l.request = f.raw("request").dump();  // nlohmann::json sorts keys: as the run wrote it
  }
  return l;
}

// The one place that reads a recorded verdict: "outcome" ("pass", "fail", "not-checked", "not-applicable").
void read_verdict(const JsonFields& f, CheckResult& r) {
  r.outcome = f.word("outcome", outcome_from_key, "check outcome");
}

CheckResult read_check(const JsonFields& f) {
  CheckResult r;
  r.name = f.text("name");
  r.builtin = f.flag("builtin");
  read_verdict(f, r);
  r.expected = f.text("expected");
  r.saw = f.text("saw");
  r.line = f.number<std::size_t>("line");
  return r;
}

// {"client": ..., "server": ...}: each side's value as `read` reads it from its key, client first.
template <typename Read>
auto per_side(Read read) -> PerSide<decltype(read("client"))> {
  return {read("client"), read("server")};
}

// "kernel_counters": {"client": {"Tcp.OutRsts": 1, ...} or null, "server": ...}. Absent (a trace
// recorded before lastack read them, or neither side's could be read): not read.
void read_kernel_counters(const JsonFields& f, Trace& t) {
  if (!f.has("kernel_counters")) return;
  const JsonFields sides = f.object("kernel_counters");
  const auto side = [&sides](std::string_view key) -> std::optional<CounterDeltas> {
    if (sides.raw(key).is_null()) return std::nullopt;
    const JsonFields counters = sides.object(key);
    CounterDeltas out;
    for (const auto& [name, value] : sides.raw(key).items()) out.emplace(name, counters.number<std::int64_t>(name));
    return out;
  };
  t.counters = per_side(side);
}

// "socket_samples": {"client": [[start_ns, end_ns], ...], "server": ...}, each side in time
// order. Absent (a trace recorded before lastack kept them): none recorded.
void read_socket_samples(const JsonFields& f, Trace& t) {
  if (!f.has("socket_samples")) return;
  const JsonFields sides = f.object("socket_samples");
  const auto side = [&sides](std::string_view key) {
    std::vector<SocketSample> out;
    const Json& list = sides.raw(key);
    if (!list.is_array()) sides.fail(fmt::format("{} is not a list of [start_ns, end_ns] pairs", sides.name(key)));
    for (const Json& pair : list) {
      const bool ints = pair.is_array() && pair.size() == 2 && pair[0].is_number_integer() && pair[1].is_number_integer();
      if (!ints) sides.fail(fmt::format("{} holds {}, not a [start_ns, end_ns] pair", sides.name(key), quoted(pair)));
      const SocketSample s{instant_from_ns(pair[0].get<std::int64_t>()), instant_from_ns(pair[1].get<std::int64_t>())};
      if (s.end < s.start || (!out.empty() && s.start < out.back().start))
        sides.fail(fmt::format("{} holds {}: a sample ends before it starts, or starts before the one listed before it",
                               sides.name(key), quoted(pair)));
      out.push_back(s);
    }
    return out;
  };
  t.samples = per_side(side);
}

// "pending_at_end": what the kernel or the lab could still have added when the run ended.
void read_pending(const JsonFields& f, Trace& t) {
  if (!f.has("pending_at_end")) return;
  const nlohmann::json& list = f.raw("pending_at_end");
  if (!list.is_array()) f.fail(fmt::format("{} is not a list", f.name("pending_at_end")));
  for (const nlohmann::json& item : list) {
    if (!item.is_object()) f.fail(fmt::format("{} holds something that is not an object", f.name("pending_at_end")));
    const JsonFields p(item, f.where(), "pending_at_end");
    PendingEvidence e;
    e.kind = p.word("kind", pending_kind_from_key, "pending kind");
    if (!p.raw("side").is_null()) e.side = p.word("side", side_from_name, "side");
    e.cookie = p.number<std::uint64_t>("cookie");
    e.local_port = p.number<std::uint16_t>("local_port");
    e.remote_port = p.number<std::uint16_t>("remote_port");
    e.connection = optional_connection(p);
    e.due = p.instant("due_ns");
    t.pending_at_end.push_back(e);
  }
}

// "link": the run's [link] as it ran (absent: none).
LinkDirection read_link_direction(const JsonFields& d) {
  LinkDirection out;
  out.latency = Millis(d.number<std::int64_t>("latency_ms"));
  out.jitter = Millis(d.number<std::int64_t>("jitter_ms"));
  out.reorder = d.flag("reorder");
  out.rate = d.optional_number<std::uint64_t>("rate_bps");
  out.queue_bytes = d.optional_number<std::uint64_t>("queue_bytes");
  out.queue_segments = d.optional_number<std::uint32_t>("queue_segments");
  out.loss = d.real("loss");
  out.duplicate = d.real("duplicate");
  return out;
}

std::optional<Link> read_run_link(const JsonFields& f) {
  if (!f.has("link")) return std::nullopt;
  const JsonFields l = f.object("link");
  Link link;
  link.line = l.number<std::size_t>("line");
  link.from[Side::client] = read_link_direction(l.object("client-to-server"));
  link.from[Side::server] = read_link_direction(l.object("server-to-client"));
  return link;
}

Trace read_header(const JsonFields& f) {
  if (!f.has("format"))
    f.fail("no \"format\": a trace from a lastack that did not record wire bytes; record it again");
  const int format = f.number<int>("format");
  if (format != jsonl_format)
    f.fail(fmt::format("trace format {} is not one this lastack reads (format {})", format, jsonl_format));
  Trace t;
  t.policy = f.text("policy");
  t.ipv6 = f.flag("ipv6");
  t.kernel = f.text("kernel");
  const JsonFields sysctls = f.object("sysctls");
  t.sysctls = per_side([&sysctls](std::string_view key) { return sysctls.text_map(key); });
  t.queue_drops = f.number<std::uint64_t>("queue_drops");
  t.every_segment = f.flag("every_segment");
  t.whole_wire = f.flag("whole_wire");
  t.kernel_source = f.word("kernel_source", kernel_source_from_name, "kernel source");
  const JsonFields overflow = f.object("timewait_overflow");
  t.timewait_overflow =
      per_side([&overflow](std::string_view key) { return overflow.optional_number<std::uint64_t>(key); });
  t.wall_start = std::chrono::sys_time<std::chrono::nanoseconds>(
      std::chrono::nanoseconds(f.number<std::int64_t>("wall_start_ns")));
  for (const std::string& text : f.text_list("client_addresses")) {
    const auto address = IpAddress::parse(text);
    if (!address) f.fail(fmt::format("\"client_addresses\" holds \"{}\", not an IP address", text));
    t.client_addresses.push_back(*address);
  }
  // Timer and observer resolutions: absent in hand-written traces, which get this machine's defaults.
  if (const auto us = f.optional_number<std::int64_t>("jiffy_us")) t.jiffy = std::chrono::microseconds(*us);
  if (const auto us = f.optional_number<std::int64_t>("sample_interval_us"))
    t.sample_interval = std::chrono::microseconds(*us);
  if (const auto us = f.optional_number<std::int64_t>("wire_resolution_us"))
    t.wire_resolution = std::chrono::microseconds(*us);
  if (const auto until = f.optional_number<std::int64_t>("observed_until_ns")) t.observed_until = instant_from_ns(*until);
  if (f.has("run_end_ns"))
    if (const auto end = f.optional_number<std::int64_t>("run_end_ns")) t.run_end = instant_from_ns(*end);
  if (f.has("random_seed")) t.random_seed = f.number<std::uint64_t>("random_seed");
  t.link = read_run_link(f);
  read_kernel_counters(f, t);
  read_socket_samples(f, t);
  if (f.has("final_sample_lists_all")) t.final_sample_lists_all = f.flag("final_sample_lists_all");
  read_pending(f, t);
  if (f.has("segments_after_end")) {
    const JsonFields after = f.object("segments_after_end");
    t.segments_after_end = per_side([&after](std::string_view key) { return after.number<std::uint64_t>(key); });
  }
  agree(f, trace_header_json(t), false);
  return t;
}

// One event line into its typed event.
TraceEvent read_event(const JsonFields& f, const std::string& type, FlowTracker& tracker) {
  if (type == "wire") return read_wire(f, tracker);
  if (type == "socket") return read_socket(f);
  if (type == "state") return read_state_change(f);
  if (type == "retransmit") return read_kernel_retransmit(f);
  if (type == "reset") return read_kernel_reset(f);
  if (type == "app") return read_app(f);
  if (type == "lab") return read_lab(f);
  if (type == "run") f.fail("a second run header (\"type\": \"run\"): one trace per file");
  f.fail(fmt::format("unknown event type \"{}\"", type));
}

Json parse_line(const std::string& line, const std::string& where) {
  Json j;
  try {
    j = Json::parse(line);
  } catch (const Json::parse_error& e) {
    throw InputError(fmt::format("{}: not valid JSON (cut off or malformed) at byte {}", where, e.byte));
  } catch (const Json::out_of_range&) {
    // The parser throws this, not parse_error, for a number no double can hold (found by fuzzing).
    throw InputError(fmt::format("{}: a number too large for a double (JSON out of range)", where));
  }
  if (!j.is_object()) throw InputError(fmt::format("{}: not a JSON object", where));
  return j;
}

}  // namespace

RecordedRun read_recorded_run(std::istream& in, std::string_view origin) {
  RecordedRun run;
  // Traced wire events as the file labels them, checked against the kernel's account at the end.
  struct Labelled {
    std::size_t index = 0;
    std::string where;
    bool retransmission = false;  // the file's word
    bool inferred = false;        // the wire's (the flow tracker's)
  };
  std::vector<Labelled> labelled;
  std::optional<FlowTracker> tracker;  // seeded from the header
  std::optional<Instant> previous;  // the last event's time; none before the first event
  std::size_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.empty()) continue;
    const std::string where = fmt::format("{}:{}", origin, number);
    const Json j = parse_line(line, where);
    const JsonFields f(j, where);
    const std::string type = f.text("type");
    if (!tracker) {
      if (type != "run")
        f.fail(fmt::format("the first line must be the run header (\"type\": \"run\"), not \"{}\"", type));
      run.trace = read_header(f);
      tracker.emplace(run.trace.client_addresses);
      continue;
    }
    if (type == "check") {
      run.checks.push_back(read_check(f));
      continue;
    }
    TraceEvent event = read_event(f, type, *tracker);
    // The kernel's retransmission events (traced) or its counters (sampled) decide that role, and
    // they may come later in the file: take the file's word now, check it once every event is read.
    if (auto* w = std::get_if<WireEvent>(&event)) {
      const bool inferred = w->info.roles.has(Role::retransmission);
      w->info.roles.remove(Role::retransmission);
      for (const std::string& role : f.text_list("roles"))
        if (role == role_name(Role::retransmission)) w->info.roles.add(Role::retransmission);
      labelled.push_back({run.trace.events.size(), where, w->info.roles.has(Role::retransmission), inferred});
    }
    agree(f, trace_event_json(event), type == "wire");
    const Instant at = event_time(event);
    if (previous && at < *previous)
      f.fail(fmt::format("\"t_ns\" {} is before the previous event's ({}): events must be in time order",
                         ns_since_start(at), ns_since_start(*previous)));
    previous = at;
    run.trace.events.push_back(std::move(event));
  }
  if (in.bad()) throw InputError(fmt::format("{}: read error", origin));
  if (!tracker) throw InputError(fmt::format("{}: empty trace (no run header line)", origin));
  const bool traced = run.trace.kernel_source == KernelSource::traced;
  if (traced) label_retransmissions(run.trace);
  for (const Labelled& l : labelled) {
    const auto& w = std::get<WireEvent>(run.trace.events[l.index]);
    const bool want = traced ? w.info.roles.has(Role::retransmission) : l.inferred && !none_counted(run.trace, w.info.from);
    if (want != l.retransmission)
      throw InputError(fmt::format("{}: \"roles\" {} \"retransmission\", but {} say it {} one", l.where,
                                   l.retransmission ? "has" : "lacks",
                                   traced ? "the kernel's retransmission events" : "the wire and the counters",
                                   want ? "is" : "is not"));
  }
  return run;
}

Trace read_trace_jsonl(std::istream& in, std::string_view origin) {
  return read_recorded_run(in, origin).trace;
}

void reclassify_wire(Trace& trace) {
  FlowTracker tracker(trace.client_addresses);
  for (TraceEvent& e : trace.events) {
    auto* w = std::get_if<WireEvent>(&e);
    if (!w) continue;
    w->segment = parse_segment(w->bytes);
    w->info = tracker.observe(w->segment, w->injected);
  }
  label_retransmissions(trace);
}

}  // namespace lastack
