#pragma once
// The trace model: one ordered log of everything a run observed (wire, kernel, apps, lab).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "harness/core/clock.hpp"
#include "harness/core/flow_tracker.hpp"
#include "harness/core/policy.hpp"
#include "harness/core/segment.hpp"
#include "harness/core/tcp_state.hpp"

namespace lastack {

/// What finally happened to a queued segment.
enum class Fate : std::uint8_t { passed, dropped, delayed, held, duplicated };
/// "passed", "dropped", ...
std::string_view fate_name(Fate f);

/// Wire truth: one segment as the interceptor in `wire` saw it.
struct WireEvent {
  Instant at{};                      // when it reached the interceptor
  std::optional<Instant> released;   // delayed/held: when it was let go
  std::uint64_t packet = 0;          // the interceptor's id (0 for injected segments)
  bool injected = false;             // made by lastack (a [[lab]] action), not sent by an endpoint
  Segment segment;
  Classified info;                   // connection, sender, roles, relative seq/ack
  Fate fate = Fate::passed;
  std::optional<std::size_t> fault;  // index into Policy::faults that acted on it
  std::string note;                  // "dropped by fault 1: final-ack"
  std::vector<std::uint8_t> bytes;   // the IP packet as captured: headers, payload if the copy range took it
  std::uint32_t wire_length = 0;     // the packet's real length (> bytes.size() when cut)
};

/// sock_diag's idiag_timer values.
enum class SocketTimer : std::uint8_t { none = 0, retransmit = 1, keepalive = 2, time_wait = 3, probe = 4 };

/// Kernel truth: a socket's state or timer changed (sampled with sock_diag).
struct SocketEvent {
  Instant at{};
  Side side = Side::client;           // namespace the socket lives in
  std::optional<std::size_t> connection;
  std::uint16_t local_port = 0, remote_port = 0;
  TcpState state = TcpState::CLOSE;   // CLOSE: the socket is gone
  SocketTimer timer = SocketTimer::none;
  Millis expires{0};                  // time left on `timer`
  std::uint8_t retransmits = 0;       // idiag_retrans / tcpi_retransmits
  std::uint32_t total_retrans = 0;    // tcpi_total_retrans (0 in TIME_WAIT: no tcp_info)
  std::chrono::microseconds rto{0};   // tcpi_rto (0 in TIME_WAIT)
};

/// App truth: one agent step and its outcome.
struct AppEvent {
  Instant at{};
  Side side = Side::client;
  std::string step;        // as written in the policy: "send 1000"
  std::string outcome;     // "ok", "eof", or an errno name: "ECONNRESET", "ETIMEDOUT", "EPIPE"
  std::uint64_t bytes = 0; // moved by this step
};

/// Something the lab did or noticed: a lab action, a harness warning.
struct LabEvent {
  Instant at{};
  std::string what;
};

using TraceEvent = std::variant<WireEvent, SocketEvent, AppEvent, LabEvent>;

/// The time of any event.
Instant event_time(const TraceEvent& e);

/// Everything one run produced, in time order, plus the settings it ran with.
struct Trace {
  std::string policy;
  bool ipv6 = false;
  std::string kernel;                                        // uname -r
  std::map<std::string, std::string> client_sysctls, server_sysctls;  // values in force
  std::vector<TraceEvent> events;
  std::uint64_t queue_drops = 0;
  bool every_segment = true;  // every TCP segment was queued; false: only those a rule could select                             // kernel-side NFQUEUE drops
  std::chrono::sys_time<std::chrono::nanoseconds> wall_start{};  // wall-clock time of Instant 0
};

}  // namespace lastack
