#pragma once
// Recorded traces, read and then changed in one small way, for tests that a check fails when
// the kernel misbehaves in that way. Each mutation keeps the trace one a run could have written:
// segment edits go into the captured bytes (the TCP checksum kept valid) and every segment is
// re-parsed and re-classified afterwards, so roles follow the change as they would on the wire.
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/base/errno_name.hpp"
#include "harness/core/wire/checksum.hpp"
#include "lastack/oracle.hpp"
#include "lastack/policy_parser.hpp"
#include "harness/core/wire/segment_builder.hpp"
#include "harness/core/record/trace_reader.hpp"

namespace lastack::testing {

// ---- fixtures ----

/// tests/fixtures/traces/NAME.jsonl, read with its recorded verdicts.
inline RecordedRun read_fixture(std::string_view name) {
  const std::string path = std::string(LASTACK_FIXTURES) + "/traces/" + std::string(name) + ".jsonl";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read the fixture");
  return read_recorded_run(in, path);
}

/// The shipped policy NAME, from policies/ (LASTACK_POLICY_DIR).
inline Policy shipped_policy(std::string_view name) {
  const std::string path = std::string(LASTACK_POLICY_DIR) + "/" + std::string(name) + ".toml";
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read the policy");
  std::stringstream text;
  text << in.rdbuf();
  return parse_policy(text.str(), path);
}

// ---- finding events ----

/// Index in trace.events of the nth (1-based) wire segment from `from` carrying `role`
/// (and, when given, not carrying `without`); throws when there is none.
inline std::size_t wire_index(const Trace& trace, Side from, Role role, int nth = 1,
                              std::optional<Role> without = std::nullopt) {
  for (std::size_t i = 0; i < trace.events.size(); ++i) {
    const auto* w = std::get_if<WireEvent>(&trace.events[i]);
    if (!w || w->info.from != from || !w->info.roles.has(role)) continue;
    if (without && w->info.roles.has(*without)) continue;
    if (--nth == 0) return i;
  }
  throw std::runtime_error("no such segment in the trace");
}

/// The wire event at `index`.
inline WireEvent& wire_at(Trace& trace, std::size_t index) { return std::get<WireEvent>(trace.events.at(index)); }
inline const WireEvent& wire_at(const Trace& trace, std::size_t index) {
  return std::get<WireEvent>(trace.events.at(index));
}

/// The first socket sample of `side`'s connection socket (not a listener); throws when none.
inline const SocketEvent& first_socket(const Trace& trace, Side side) {
  for (const TraceEvent& e : trace.events)
    if (const auto* s = std::get_if<SocketEvent>(&e); s && s->side == side && s->remote_port != 0) return *s;
  throw std::runtime_error("no socket sample for that side");
}

// ---- editing segment bytes ----

/// The Internet sum of `w`'s TCP pseudo-header (addresses, protocol, TCP length), unfolded.
inline std::uint32_t pseudo_header_sum(const WireEvent& w) {
  const std::size_t address_len = w.segment.src.family == IpFamily::v4 ? 4 : 16;
  std::uint32_t sum = checksum_add(0, std::span(w.segment.src.bytes.data(), address_len));
  sum = checksum_add(sum, std::span(w.segment.dst.bytes.data(), address_len));
  const std::uint32_t tcp_len = w.wire_length - w.segment.ip_header_len;
  return sum + 6 + tcp_len;  // protocol TCP
}

/// The TCP checksum field of `w`.
inline std::uint16_t tcp_checksum_field(const WireEvent& w) {
  const std::size_t at = w.segment.ip_header_len + 16;
  return static_cast<std::uint16_t>(w.bytes.at(at) << 8 | w.bytes.at(at + 1));
}

/// True when the field holds only the folded pseudo-header sum: the sender left the rest to
/// checksum offload (CHECKSUM_PARTIAL), as segments captured between veths usually are.
inline bool tcp_checksum_partial(const WireEvent& w) {
  return tcp_checksum_field(w) == static_cast<std::uint16_t>(~checksum_fold(pseudo_header_sum(w)));
}

/// True when the complete TCP checksum of a fully captured segment holds.
inline bool tcp_checksum_holds(const WireEvent& w) {
  const std::uint32_t sum = checksum_add(pseudo_header_sum(w), std::span(w.bytes).subspan(w.segment.ip_header_len));
  return checksum_fold(sum) == 0;
}

/// Overwrite the 16-bit TCP header word at `offset` (from the TCP header's start) with `value`.
/// A complete checksum is updated incrementally (RFC 1624: HC' = ~(~HC + ~m + m')), which needs
/// no payload, so it holds when the capture cut the payload off; a partial one (pseudo-header
/// only) does not cover the header and stays as it is.
inline void set_tcp_word(WireEvent& w, std::size_t offset, std::uint16_t value) {
  auto& b = w.bytes;
  const std::size_t tcp = w.segment.ip_header_len;
  const auto get = [&b](std::size_t at) { return static_cast<std::uint16_t>(b.at(at) << 8 | b.at(at + 1)); };
  const auto put = [&b](std::size_t at, std::uint16_t v) {
    b.at(at) = static_cast<std::uint8_t>(v >> 8);
    b.at(at + 1) = static_cast<std::uint8_t>(v);
  };
  const bool partial = tcp_checksum_partial(w);
  const std::uint16_t old_value = get(tcp + offset), old_checksum = get(tcp + 16);
  const std::uint32_t sum = std::uint32_t(~old_checksum & 0xffff) + std::uint32_t(~old_value & 0xffff) + value;
  put(tcp + offset, value);
  if (!partial) put(tcp + 16, checksum_fold(sum));
}

/// Overwrite the TCP acknowledgment number (checksum kept as valid as it was).
inline void set_ack_number(WireEvent& w, SeqNum ack) {
  set_tcp_word(w, 8, static_cast<std::uint16_t>(ack.raw() >> 16));
  set_tcp_word(w, 10, static_cast<std::uint16_t>(ack.raw()));
}

// ---- mutations (each re-classifies the wire, so roles follow) ----

/// The segment at `index` is gone from the wire, with the kernel's record of sending it again
/// (a KernelRetransmit of the same side and sequence number) when it was a retransmission.
inline void remove_segment(Trace& trace, std::size_t index) {
  const WireEvent gone = wire_at(trace, index);
  trace.events.erase(trace.events.begin() + static_cast<std::ptrdiff_t>(index));
  if (gone.info.roles.has(Role::retransmission)) {
    std::erase_if(trace.events, [&gone](const TraceEvent& e) {
      const auto* r = std::get_if<KernelRetransmit>(&e);
      return r && r->side == gone.info.from && r->seq == gone.segment.seq;
    });
  }
  reclassify_wire(trace);
}

/// The first retransmission from `from` of a segment carrying `role` never happened.
inline void remove_retransmission(Trace& trace, Side from, Role role) {
  for (std::size_t i = 0; i < trace.events.size(); ++i) {
    const auto* w = std::get_if<WireEvent>(&trace.events[i]);
    if (w && w->info.from == from && w->info.roles.has(role) && w->info.roles.has(Role::retransmission))
      return remove_segment(trace, i);
  }
  throw std::runtime_error("no such retransmission in the trace");
}

/// The peer's first acknowledgment of the SYN or FIN at `index` acknowledges
/// seq + len + 1 + `offset` instead (-1: it does not count the control octet).
inline void reacknowledge(Trace& trace, std::size_t index, std::int32_t offset) {
  const WireEvent control = wire_at(trace, index);
  for (std::size_t i = index + 1; i < trace.events.size(); ++i) {
    auto* w = std::get_if<WireEvent>(&trace.events[i]);
    if (!w || w->info.from == control.info.from || w->info.connection != control.info.connection) continue;
    if (!w->segment.flags.ack() || w->segment.ack != control.segment.seq_end()) continue;
    set_ack_number(*w, control.segment.seq_end() + static_cast<std::uint32_t>(offset));
    reclassify_wire(trace);
    return;
  }
  throw std::runtime_error("the control segment is never acknowledged");
}

/// Keep events in time order after one moved (ties keep their order).
inline void sort_by_time(Trace& trace) {
  std::stable_sort(trace.events.begin(), trace.events.end(),
                   [](const TraceEvent& a, const TraceEvent& b) { return event_time(a) < event_time(b); });
}

/// The third transmission of the first segment from `from` with `role` is sent after the same
/// gap as the second: no exponential backoff (its KernelRetransmit moves with it).
inline void equalize_backoff_gaps(Trace& trace, Side from, Role role) {
  const Instant first = event_time(trace.events.at(wire_index(trace, from, role, 1)));
  const Instant second = event_time(trace.events.at(wire_index(trace, from, role, 2)));
  WireEvent& third = wire_at(trace, wire_index(trace, from, role, 3));
  const Instant moved_to = second + (second - first);
  // The kernel's record of the third transmission is its second retransmission of that seq.
  int retransmissions = 0;
  for (TraceEvent& e : trace.events) {
    auto* r = std::get_if<KernelRetransmit>(&e);
    if (r && r->side == from && r->seq == third.segment.seq && ++retransmissions == 2)
      r->at = moved_to + (r->at - third.at);
  }
  third.at = moved_to;
  sort_by_time(trace);
  reclassify_wire(trace);
}

/// Socket samples of `side`'s socket `local`→`remote` in `states`, 1 µs apart from `at`,
/// inserted in time order.
inline void insert_socket_states(Trace& trace, Side side, std::uint16_t local, std::uint16_t remote, Instant at,
                                 std::initializer_list<TcpState> states) {
  for (TcpState state : states) {
    SocketEvent s;
    s.at = at;
    s.side = side;
    s.local_port = local;
    s.remote_port = remote;
    s.state = state;
    if (state == TcpState::TIME_WAIT) s.timer = SocketTimer::time_wait;
    const auto after = std::upper_bound(trace.events.begin(), trace.events.end(), at,
                                        [](Instant t, const TraceEvent& e) { return t < event_time(e); });
    trace.events.insert(after, s);
    at += std::chrono::microseconds(1);
  }
}

/// `after` the segment at `index`, the RST its receiver's kernel would send back for it
/// (build_reset_to_sender) is on the wire too: not injected, a kernel's own.
inline void add_reset_answering(Trace& trace, std::size_t index, Duration after) {
  const WireEvent& trigger = wire_at(trace, index);
  WireEvent rst;
  rst.at = trigger.at + after;
  rst.packet = trigger.packet + 1000;  // an id no other segment has
  rst.bytes = build_reset_to_sender(trigger.segment);
  rst.wire_length = static_cast<std::uint32_t>(rst.bytes.size());
  const auto later = std::upper_bound(trace.events.begin(), trace.events.end(), rst.at,
                                      [](Instant t, const TraceEvent& e) { return t < event_time(e); });
  trace.events.insert(later, rst);
  reclassify_wire(trace);
}

/// The first RST from `from` is marked as made by lastack (`injected`) or as its kernel's.
inline void mark_reset_injected(Trace& trace, Side from, bool injected) {
  wire_at(trace, wire_index(trace, from, Role::rst)).injected = injected;
}

/// `side`'s app steps starting with `step` moved `bytes` bytes (the first such step; the rest 0).
inline void set_app_bytes(Trace& trace, Side side, std::string_view step, std::uint64_t bytes) {
  for (TraceEvent& e : trace.events) {
    auto* a = std::get_if<AppEvent>(&e);
    if (!a || a->side != side || !a->step.starts_with(step)) continue;
    a->bytes = bytes;
    bytes = 0;
  }
}

/// `side`'s app steps that ended in `from` end in `to` ("ok", "eof" or an errno name) instead:
/// the display text and the typed result the oracle reads.
inline void set_app_outcome(Trace& trace, Side side, std::string_view from, std::string_view to) {
  for (TraceEvent& e : trace.events) {
    auto* a = std::get_if<AppEvent>(&e);
    if (!a || a->side != side || a->outcome != from) continue;
    a->outcome = to;
    a->result = to == "ok" ? StepResult::ok : to == "eof" ? StepResult::eof : StepResult::error;
    a->error = 0;
    for (int err = 1; err < 200 && a->result == StepResult::error; ++err)
      if (errno_name(err) == to) a->error = err;
  }
}

/// A traced state change `from` → `to` of `side`'s socket `local`→`remote` at `at`, in time order.
inline void insert_state_change(Trace& trace, Side side, std::uint16_t local, std::uint16_t remote, Instant at,
                                TcpState from, TcpState to) {
  StateChange c;
  c.at = at;
  c.side = side;
  c.local_port = local;
  c.remote_port = remote;
  c.from = from;
  c.to = to;
  const auto later = std::find_if(trace.events.begin(), trace.events.end(),
                                  [&](const TraceEvent& e) { return event_time(e) > at; });
  trace.events.insert(later, c);
}

/// Every sample of `side`'s sockets in `state` is gone (the observer never saw it).
inline void remove_socket_state(Trace& trace, Side side, TcpState state) {
  std::erase_if(trace.events, [&](const TraceEvent& e) {
    const auto* s = std::get_if<SocketEvent>(&e);
    return s && s->side == side && s->state == state;
  });
}

/// Removes every event of type Event the predicate selects.
template <typename Event, typename Pred>
void remove_events(Trace& t, Pred pred) {
  std::erase_if(t.events, [&](const TraceEvent& e) {
    const auto* ev = std::get_if<Event>(&e);
    return ev && pred(*ev);
  });
}

/// The kernel skipped `side`'s TIME_WAIT: no timewait socket was ever sampled (its FIN_WAIT_2 and
/// TIME_WAIT samples after the full socket closed are gone), and the overflow counter counted one.
inline void skip_timewait(Trace& trace, Side side) {
  std::optional<Instant> closed;
  for (const TraceEvent& e : trace.events)
    if (const auto* c = std::get_if<StateChange>(&e); c && c->side == side && c->to == TcpState::CLOSE &&
                                                     (c->from == TcpState::FIN_WAIT2 || c->from == TcpState::CLOSING))
      closed = c->at;
  if (!closed) throw std::runtime_error("no traced close from FIN_WAIT_2 or CLOSING on that side");
  std::erase_if(trace.events, [&](const TraceEvent& e) {
    const auto* s = std::get_if<SocketEvent>(&e);
    return s && s->side == side && s->at > *closed;
  });
  auto& counters = trace.counters[side];
  if (counters) (*counters)["TcpExt.TCPTimeWaitOverflow"] = 1;
  trace.timewait_overflow[side] = 1;
}

/// `side`'s first TIME_WAIT sample shows `left` on its timer.
inline void set_timewait_left(Trace& trace, Side side, Millis left) {
  for (TraceEvent& e : trace.events) {
    auto* s = std::get_if<SocketEvent>(&e);
    if (s && s->side == side && s->state == TcpState::TIME_WAIT) {
      s->expires = left;
      return;
    }
  }
  throw std::runtime_error("no TIME_WAIT sample for that side");
}

/// From the segment at `index` on, connection 0's segments use client port `port`: on the
/// wire, a second connection (without a handshake of its own).
inline void move_to_client_port(Trace& trace, std::size_t index, std::uint16_t port) {
  for (std::size_t i = index; i < trace.events.size(); ++i) {
    auto* w = std::get_if<WireEvent>(&trace.events[i]);
    if (!w || w->info.connection != ConnectionIndex{0}) continue;
    set_tcp_word(*w, w->info.from == Side::client ? 0 : 2, port);
  }
  reclassify_wire(trace);
}

// ---- verdicts ----

/// The one place the tests read a check's verdict.
inline bool passed(const CheckResult& r) { return r.passed(); }

/// The result named `name` in `results`; throws when absent.
inline const CheckResult& result_named(const std::vector<CheckResult>& results, std::string_view name) {
  for (const CheckResult& r : results)
    if (r.name == name) return r;
  throw std::runtime_error("no check named " + std::string(name));
}

}  // namespace lastack::testing
