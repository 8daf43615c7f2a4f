#pragma once
// Builds small traces in code for oracle and report tests: one connection, client
// 198.18.1.2:40000 -> server 198.18.2.2:8080, sequence numbers given relative to each ISN.
#include <algorithm>
#include <chrono>
#include <vector>
#include <initializer_list>
#include <optional>
#include <string_view>

#include "harness/core/base/errno_name.hpp"
#include "lastack/per_side.hpp"
#include "lastack/trace.hpp"

namespace lastack::testing {

inline constexpr std::uint32_t client_isn = 1'000'000;
inline constexpr std::uint32_t server_isn = 3'000'000'000u;  // near wrap: relative math must hold
inline constexpr PerSide<std::uint32_t> isn_of{client_isn, server_isn};
inline constexpr PerSide<std::uint16_t> port_of{40000, 8080};  // each side's own port

/// Milliseconds (fractions allowed) as a trace instant.
inline Instant ms(double v) {
  return Instant(std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(v)));
}

/// An IPv4 address from its four octets.
inline IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  IpAddress ip;
  ip.bytes[0] = a, ip.bytes[1] = b, ip.bytes[2] = c, ip.bytes[3] = d;
  return ip;
}

class TraceBuilder {
 public:
  TraceBuilder() { trace.policy = "test-policy"; }


  /// A segment on the wire; `flags` in tcpdump spelling ("S", "S.", ".", "P.", "F.", "R").
  /// The reference is valid until the next call.
  WireEvent& wire(double at_ms, Side from, std::string_view flags, std::uint32_t rel_seq,
                  std::uint32_t rel_ack, std::uint32_t len, std::initializer_list<Role> roles,
                  Fate fate = Fate::passed) {
    WireEvent w;
    w.at = ms(at_ms);
    w.packet = ++packets_;
    const bool client = from == Side::client;
    w.segment.src = client ? v4(198, 18, 1, 2) : v4(198, 18, 2, 2);
    w.segment.dst = client ? v4(198, 18, 2, 2) : v4(198, 18, 1, 2);
    w.segment.sport = client ? 40000 : 8080;
    w.segment.dport = client ? 8080 : 40000;
    for (char c : flags) {
      if (c == 'S') w.segment.flags.bits |= TcpFlags::SYN;
      if (c == 'F') w.segment.flags.bits |= TcpFlags::FIN;
      if (c == 'R') w.segment.flags.bits |= TcpFlags::RST;
      if (c == 'P') w.segment.flags.bits |= TcpFlags::PSH;
      if (c == '.') w.segment.flags.bits |= TcpFlags::ACK;
    }
    w.segment.seq = SeqNum((client ? client_isn : server_isn) + rel_seq);
    w.segment.ack = SeqNum((client ? server_isn : client_isn) + rel_ack);
    w.segment.payload_len = len;
    w.segment.window = 502;
    w.info.from = from;
    w.info.rel_seq = rel_seq;
    w.info.rel_ack = rel_ack;
    for (Role r : roles) w.info.roles.add(r);
    w.fate = fate;
    trace.events.emplace_back(w);
    return std::get<WireEvent>(trace.events.back());
  }

  /// A sock_diag sample of the one connection's socket on `side`.
  SocketEvent& socket(double at_ms, Side side, TcpState state, double rto_ms = 0,
                      double expires_ms = 0) {
    SocketEvent s;
    s.at = ms(at_ms);
    s.side = side;
    s.local_port = port_of[side];
    s.remote_port = port_of[peer_of(side)];
    s.state = state;
    s.rto = std::chrono::microseconds(static_cast<long>(rto_ms * 1000));
    s.expires = Millis(static_cast<long>(expires_ms));
    if (state == TcpState::TIME_WAIT) s.timer = SocketTimer::time_wait;
    trace.events.emplace_back(s);
    return std::get<SocketEvent>(trace.events.back());
  }

  /// An agent step; its kind and typed result follow from the text ("send 1000", "ECONNRESET"),
  /// as the agent would set them. A read is verified (its bytes matched the pattern).
  AppEvent& app(double at_ms, Side side, std::string step, std::string outcome,
                std::uint64_t bytes = 0) {
    AppEvent a{ms(at_ms), side, step, outcome, bytes};
    if (const auto kind = kind_of(step))
      a.facts = AgentStepFacts{*kind, std::nullopt, std::nullopt, kind == StepKind::recv || kind == StepKind::recv_until_eof};
    if (outcome == "ok") a.result = StepResult::ok;
    else if (outcome == "eof") a.result = StepResult::eof;
    else if (outcome == "aborted") a.result = StepResult::aborted;
    else a.result = StepResult::error, a.error = errno_of(outcome);
    trace.events.emplace_back(a);
    return std::get<AppEvent>(trace.events.back());
  }

  LabEvent& lab(double at_ms, std::string what, LabEventKind kind = LabEventKind::note,
                std::optional<Side> side = std::nullopt) {
    trace.events.emplace_back(LabEvent{ms(at_ms), std::move(what), kind, side});
    return std::get<LabEvent>(trace.events.back());
  }

  /// A full socket's exact state change (tracepoint sock:inet_sock_set_state), with the socket's
  /// own fields as a run records them: no error, no peer FIN accepted, not orphaned (set
  /// `facts` for a close that had them).
  StateChange& state(double at_ms, Side side, TcpState from, TcpState to) {
    StateChange c;
    c.facts = StateChange::Facts{};
    c.at = ms(at_ms);
    c.side = side;
    c.local_port = port_of[side];
    c.remote_port = port_of[peer_of(side)];
    c.from = from;
    c.to = to;
    trace.events.emplace_back(c);
    return std::get<StateChange>(trace.events.back());
  }

  /// The kernel's account of a retransmission of `rel_seq` from `side`.
  KernelRetransmit& retransmit(double at_ms, Side side, std::uint32_t rel_seq, RetransmitCause cause,
                               TcpState state = TcpState::ESTABLISHED) {
    KernelRetransmit k;
    k.at = ms(at_ms);
    k.side = side;
    k.local_port = port_of[side];
    k.remote_port = port_of[peer_of(side)];
    k.state = state;
    k.seq = SeqNum(isn_of[side] + rel_seq);
    k.cause = cause;
    trace.events.emplace_back(k);
    return std::get<KernelRetransmit>(trace.events.back());
  }

  /// A RST the kernel on `side` sent (or, with sent false, accepted).
  KernelReset& reset(double at_ms, Side side, TcpState state, bool sent = true) {
    KernelReset r;
    r.at = ms(at_ms);
    r.side = side;
    r.local_port = port_of[side];
    r.remote_port = port_of[peer_of(side)];
    r.state = state;
    r.sent = sent;
    trace.events.emplace_back(r);
    return std::get<KernelReset>(trace.events.back());
  }

  static std::optional<StepKind> kind_of(std::string_view step) {
    if (step.starts_with("connect")) return StepKind::connect;
    if (step.starts_with("accept")) return StepKind::accept;
    if (step.starts_with("send")) return StepKind::send;
    if (step.starts_with("recv-until-eof")) return StepKind::recv_until_eof;
    if (step.starts_with("recv")) return StepKind::recv;
    if (step.starts_with("shutdown")) return StepKind::shutdown_write;
    if (step.starts_with("close")) return StepKind::close;
    if (step.starts_with("abort")) return StepKind::abort;
    if (step.starts_with("sleep")) return StepKind::sleep;
    if (step.starts_with("exit")) return StepKind::exit;
    return std::nullopt;
  }

  static int errno_of(std::string_view name) {
    for (int e = 1; e < 200; ++e)
      if (errno_name(e) == name) return e;
    return 0;
  }

  Trace trace;

 private:
  std::uint64_t packets_ = 0;
};

/// `t` as a traced run records it: one kernel account (armed with the last RTO its side sampled
/// before it; the first `probes` tail-loss probes, the rest the RTO timer's) per segment labelled
/// a retransmission, so that the labels are the kernel's word and checks about retransmissions
/// decide. A sampled trace's labels are only the wire's inference, and such checks are not
/// checked when the sender's counters counted any.
inline Trace with_kernel_retransmits(Trace t, std::size_t probes = 0) {
  std::vector<TraceEvent> accounts;
  PerSide<std::chrono::microseconds> rto;
  for (const TraceEvent& ev : t.events) {
    if (const auto* s = std::get_if<SocketEvent>(&ev); s && s->rto.count() > 0)
      rto[s->side] = s->rto;
    const auto* w = std::get_if<WireEvent>(&ev);
    if (!w || w->injected || !w->info.roles.has(Role::retransmission)) continue;
    KernelRetransmit k;
    k.at = w->at;
    k.side = w->info.from;
    k.connection = w->info.connection;
    k.local_port = w->segment.sport;
    k.remote_port = w->segment.dport;
    k.seq = w->segment.seq;
    k.cause = accounts.size() < probes ? RetransmitCause::loss_probe : RetransmitCause::rto;
    k.rto = rto[k.side];
    accounts.emplace_back(k);
  }
  t.events.insert(t.events.end(), accounts.begin(), accounts.end());
  std::stable_sort(t.events.begin(), t.events.end(),
                   [](const TraceEvent& a, const TraceEvent& b) { return event_time(a) < event_time(b); });
  t.kernel_source = KernelSource::traced;
  return t;
}

/// connect, send 1000, client closes first, server closes 50 ms later; the final ACK is
/// dropped, the server's FIN is retransmitted after its RTO (204 ms) and the client's
/// TIME_WAIT answers it (its timer restarting).
inline Trace drop_final_ack_trace() {
  using enum Role;
  const Side c = Side::client, s = Side::server;
  TraceBuilder b;
  b.socket(0.0, c, TcpState::SYN_SENT, 1000);
  b.wire(0.0, c, "S", 0, 0, 0, {syn});
  b.wire(0.1, s, "S.", 0, 1, 0, {syn_ack});
  b.wire(0.2, c, ".", 1, 1, 0, {handshake_ack, ack});
  b.socket(0.2, c, TcpState::ESTABLISHED, 204);
  b.socket(0.3, s, TcpState::ESTABLISHED, 204);
  b.app(0.2, c, "connect", "ok");
  b.app(0.3, s, "accept", "ok");
  b.wire(1.0, c, "P.", 1, 1, 1000, {data});
  b.app(1.0, c, "send 1000", "ok", 1000);
  b.wire(1.1, s, ".", 1, 1001, 0, {ack});
  b.wire(2.0, c, "F.", 1001, 1, 0, {fin, first_fin});
  b.socket(2.0, c, TcpState::FIN_WAIT1, 204);
  b.app(2.0, c, "close", "ok");
  b.wire(2.1, s, ".", 1, 1002, 0, {ack, first_fin_ack});
  b.socket(2.1, c, TcpState::FIN_WAIT2, 204);
  b.socket(2.2, s, TcpState::CLOSE_WAIT, 204);
  b.app(2.2, s, "recv-until-eof", "eof", 1000);
  b.app(52.2, s, "sleep 50ms", "ok");
  b.wire(52.3, s, "F.", 1, 1002, 0, {fin, second_fin});
  b.socket(52.3, s, TcpState::LAST_ACK, 204);
  b.app(52.3, s, "close", "ok");
  auto& dropped = b.wire(52.4, c, ".", 1002, 2, 0, {ack, final_ack}, Fate::dropped);
  dropped.fault = 0;
  dropped.note = "dropped by fault 1: final-ack";
  b.socket(52.4, c, TcpState::TIME_WAIT, 0, 60000);
  b.wire(256.3, s, "F.", 1, 1002, 0, {fin, second_fin, retransmission});
  b.wire(256.4, c, ".", 1002, 2, 0, {ack, final_ack});
  b.socket(256.4, c, TcpState::TIME_WAIT, 0, 60000);
  b.socket(256.5, s, TcpState::CLOSE);
  b.lab(800.0, "settled");
  return b.trace;
}

}  // namespace lastack::testing
