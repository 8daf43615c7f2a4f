// Enum words of the JSON Lines trace. Each inverse walks the enum through its own name
// function, so a name added in one place cannot be forgotten in the other.
#include "harness/core/trace/trace_names.hpp"

#include <initializer_list>

namespace lastack {
namespace {

template <typename E, typename NameOf>
std::optional<E> by_name(std::string_view name, NameOf name_of, std::initializer_list<E> all) {
  for (E e : all)
    if (name_of(e) == name) return e;
  return std::nullopt;
}

}  // namespace

std::string_view socket_timer_name(SocketTimer t) {
  switch (t) {
    case SocketTimer::none: return "none";
    case SocketTimer::retransmit: return "retransmit";
    case SocketTimer::keepalive: return "keepalive";
    case SocketTimer::time_wait: return "time_wait";
    case SocketTimer::probe: return "probe";
  }
  return "unknown";
}

std::string_view lab_event_kind_name(LabEventKind k) {
  switch (k) {
    case LabEventKind::note: return "note";
    case LabEventKind::timeout: return "timeout";
    case LabEventKind::timewait_destroyed: return "timewait-destroyed";
    case LabEventKind::harness_error: return "harness-error";
    case LabEventKind::observer_missed: return "observer-missed";
    case LabEventKind::window_opened: return "window-opened";
    case LabEventKind::window_closed: return "window-closed";
    case LabEventKind::fault_added: return "fault-added";
    case LabEventKind::fault_removed: return "fault-removed";
    case LabEventKind::link_set: return "link-set";
    case LabEventKind::mark: return "mark";
  }
  return "unknown";
}

std::string_view harness_cause_name(HarnessCause c) {
  switch (c) {
    case HarnessCause::capture_lost: return "capture-lost";
    case HarnessCause::wire_disagrees: return "wire-disagrees";
    case HarnessCause::wire_reordered: return "wire-reordered";
    case HarnessCause::unparsable_packet: return "unparsable-packet";
    case HarnessCause::verdict_refused: return "verdict-refused";
    case HarnessCause::queue_overflow: return "queue-overflow";
    case HarnessCause::fault_not_carried_out: return "fault-not-carried-out";
    case HarnessCause::observer_missed: return "observer-missed";
    case HarnessCause::sources_disagree: return "sources-disagree";
  }
  return "unknown";
}

std::string_view kernel_source_name(KernelSource s) {
  switch (s) {
    case KernelSource::traced: return "traced";
    case KernelSource::sampled: return "sampled";
  }
  return "unknown";
}

std::optional<Side> side_from_name(std::string_view name) {
  return by_name(name, side_name, {Side::client, Side::server});
}

std::optional<Fate> fate_from_name(std::string_view name) {
  using enum Fate;
  return by_name(name, fate_name, {passed, dropped, delayed, held, duplicated});
}

std::optional<SocketTimer> socket_timer_from_name(std::string_view name) {
  using enum SocketTimer;
  return by_name(name, socket_timer_name, {none, retransmit, keepalive, time_wait, probe});
}

std::optional<RetransmitCause> retransmit_cause_from_name(std::string_view name) {
  using enum RetransmitCause;
  return by_name(name, retransmit_cause_name, {rto, loss_probe, fast, synack});
}

std::optional<LabEventKind> lab_event_kind_from_name(std::string_view name) {
  using enum LabEventKind;
  return by_name(name, lab_event_kind_name, {note, timeout, timewait_destroyed, harness_error, observer_missed,
                                                       window_opened, window_closed, fault_added, fault_removed,
                                                       link_set, mark});
}

std::optional<HarnessCause> harness_cause_from_name(std::string_view name) {
  using enum HarnessCause;
  return by_name(name, harness_cause_name,
                 {capture_lost, wire_disagrees, wire_reordered, unparsable_packet, verdict_refused, queue_overflow,
                  fault_not_carried_out, observer_missed, sources_disagree});
}

std::string_view step_kind_name(StepKind k) {
  switch (k) {
    case StepKind::connect: return "connect";
    case StepKind::accept: return "accept";
    case StepKind::send: return "send";
    case StepKind::recv: return "recv";
    case StepKind::recv_until_eof: return "recv-until-eof";
    case StepKind::shutdown_write: return "shutdown-write";
    case StepKind::close: return "close";
    case StepKind::abort: return "abort";
    case StepKind::sleep: return "sleep";
    case StepKind::exit: return "exit";
    case StepKind::bind: return "bind";
    case StepKind::exchange: return "exchange";
    case StepKind::answer: return "answer";
    case StepKind::nodelay: return "nodelay";
  }
  return "unknown";
}

std::optional<StepKind> step_kind_from_name(std::string_view name) {
  using enum StepKind;
  return by_name(name, step_kind_name,
                 {connect, accept, send, recv, recv_until_eof, shutdown_write, close, abort, sleep, exit, bind,
                  exchange, answer, nodelay});
}

std::optional<KernelSource> kernel_source_from_name(std::string_view name) {
  return by_name(name, kernel_source_name, {KernelSource::traced, KernelSource::sampled});
}

std::optional<TcpState> state_from_trace_name(std::string_view name) {
  using enum TcpState;
  return by_name(name, state_name,
                 {ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE, CLOSE_WAIT,
                  LAST_ACK, LISTEN, CLOSING, NEW_SYN_RECV});
}

}  // namespace lastack
