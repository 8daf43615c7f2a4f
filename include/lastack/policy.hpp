#pragma once
// The policy model: plain structs that a TOML policy file parses into (see policy_parser.hpp).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lastack/connection_number.hpp"
#include "lastack/per_side.hpp"
#include "lastack/roles.hpp"
#include "lastack/side_ref.hpp"
#include "lastack/tcp_state.hpp"

namespace lastack {

using Millis = std::chrono::milliseconds;

/// Which segments a rule applies to. Unset fields match anything.
struct Selector {
  std::optional<Role> segment;            // role tag the segment must carry
  // The sender. A closer matches only once the connection's first FIN is known
  // (Classified::first_closer): live, a fault cannot select a segment sent before any FIN;
  // expectations know the whole connection.
  std::optional<SideRef> from;
  std::optional<ConnectionNumber> connection;
};

// reset: the segment is dropped and replaced by a RST to each end that `reset_to` names, each
// with the sequence number its receiver expects (wire/reset_segment).
enum class ActionKind : std::uint8_t { drop, delay, hold, duplicate, reset };

/// When a fault is active: from `from` after its anchor (the run's start, time 0 of its clock, or
/// the moment the `after` segment crossed the wire, itself outside the window) for `length`
/// (unset: until the run ends). Only segments inside the window count toward nth, every, count.
struct FaultWindow {
  Millis from{0};
  std::optional<Millis> length;   // for = "3s"
  // after = { segment = "data", from = "server", nth = 3 }: the window is anchored at that
  // segment (per connection when faults count per connection); unset: at the run's start.
  std::optional<Selector> after;
  std::uint32_t after_nth = 1;    // the after selector's nth match is the anchor
  std::size_t line = 0;           // where `window` is written
};

/// One [[fault]] table: which segments, and what happens to them on the wire.
struct FaultRule {
  Selector match;
  // Counting over the segments `match` selects, numbered from 1: the rule applies to match
  // numbers nth, nth+every, ... while fewer than `count` have been affected.
  std::uint32_t nth = 1;
  std::optional<std::uint32_t> count;  // unset: unlimited (default when `nth` is not given)
  std::uint32_t every = 1;
  // probability = P (0 < P <= 1): each segment the counting picks is acted on only when its draw
  // from the run's seed (decide/random_draw) is below P; unset: every one.
  std::optional<double> probability;
  ActionKind action = ActionKind::drop;
  Millis delay{0};                 // delay: how long
  std::optional<Selector> until;   // hold: release when a segment matching this is seen
  Millis deadline{0};              // hold: release at the latest after this (0: end of run)
  std::uint32_t copies = 1;        // duplicate: extra copies sent
  std::optional<FaultWindow> window;  // unset: active for the whole run
  // reset: which end receives a RST (unset: both). Each RST seems to come from the other end.
  std::optional<Side> reset_to;
  std::size_t line = 0;            // where the [[fault]] table starts
};

/// An action on the lab itself rather than on a segment ([[lab]] tables).
// destroy_timewait: SOCK_DESTROY `side`'s TIME_WAIT sockets. inject_rst: send, on the wire, the
// RST the triggering segment's receiver would send, to that segment's sender (= `side`).
enum class LabActionKind : std::uint8_t { destroy_timewait, inject_rst };

/// One [[lab]] table: when `on` matches a segment on the wire, do `action` on `side` after `after`.
struct LabAction {
  LabActionKind action = LabActionKind::destroy_timewait;
  Selector on;
  // The side whose socket is acted on (inject-rst: the one receiving the RST). A closer is
  // resolved when `on` matches, from the first FIN seen on the trigger's connection; a trigger
  // before any FIN does not fire the action.
  SideRef side = Side::client;
  Millis after{0};
  std::size_t line = 0;
};

enum class StepKind : std::uint8_t {
  connect, accept, send, recv, recv_until_eof, shutdown_write, close, abort, sleep, exit, bind,
  exchange, answer, nodelay
};

/// One agent step: "connect", "send 1000", "sleep 50ms", "bind 40000", "connect 40000 within 100ms",
/// "nodelay" (TCP_NODELAY on the connection: no Nagle wait for small writes)...
struct Step {
  StepKind kind = StepKind::connect;
  std::uint64_t bytes = 0;  // send N, recv N, exchange N by C, answer N by C
  // exchange N by C: send C bytes, then read C back, until N are sent (and read); answer N by C:
  // read C, then send C back. The two sides move in step, so each side's acknowledgments follow
  // its own sequence numbers closely (stale-duplicate relies on it).
  std::uint64_t chunk = 0;
  Millis duration{0};       // sleep D
  // bind N: the local port of this side's next connections. connect N: the peer's port (the
  // server connecting to the client: simultaneous open); 0 = the scenario's port.
  std::uint16_t port = 0;
  // connect ... within D: give the attempt up after D (close the socket in SYN_SENT, which sends
  // nothing) and go on: the attempt's SYN may still be on the wire (an old duplicate).
  std::optional<Millis> within;
  std::size_t line = 0;
  std::string text;         // as written, for reports
};

/// The most `connections = N` a scenario may ask: both sides' sockets live in lastack's own process
/// and every client socket ends in TIME_WAIT (the lab pins tcp_max_tw_buckets 4096).
inline constexpr std::uint32_t max_concurrent_connections = 2000;

/// [scenario]: what the two agents do, and the kernel settings around them.
struct Scenario {
  PerSide<std::vector<Step>> steps;
  // [sysctl.client] / [sysctl.server] / [sysctl.both]: "net.ipv4.tcp_fin_timeout" = "5"
  PerSide<std::map<std::string, std::string>> sysctls;
  std::map<std::string, std::size_t> sysctl_lines;  // where each setting was written, for errors
  std::uint16_t port = 8080;
  // mtu = N: every link's MTU (1500 unless set); a larger one lets one segment carry a big chunk.
  std::uint32_t mtu = 1500;
  Millis settle{500};    // keep observing this long after both agents are done
  Millis timeout{15000}; // give up on the run after this
  // finish = "client" | "server": the run ends (after settle) when that side's steps end, even
  // if the other is still waiting (a server whose accept() never returns). Unset: both sides.
  std::optional<Side> finish_with;
  // connections = N: N copies of this scenario run at once, each its own connection (the client
  // opens N, the server accepts N on one listener); each check is judged on every one of them.
  std::uint32_t connections = 1;
  // Under `lastack exec`, a policy written for one connection applies to each connection the
  // user's programs open: faults count and lab actions fire within each, as with connections = N.
  bool each_connection = false;
  // random-seed = N: the run's seed for probabilistic faults (`--seed` overrides; unset: drawn).
  std::optional<std::uint64_t> random_seed;

  /// True when faults count, and lab actions fire, within each connection.
  bool per_connection() const { return connections > 1 || each_connection; }
};

// ---- expectations ([[expect]] tables) ----

/// How many a check wants: exactly `count`, or at least `min` and/or at most `max` (inclusive).
/// A policy gives count alone, or min and/or max (never count with a bound, never min > max).
template <typename T>
struct CountBound {
  std::optional<T> count;     // exact
  std::optional<T> min, max;  // inclusive

  /// Whether `n` meets the bound: == count when set, else within min and max (none set: any n).
  constexpr bool admits(T n) const {
    if (count) return n == *count;
    return (!min || n >= *min) && (!max || n <= *max);
  }
  bool operator==(const CountBound&) const = default;
};

/// after = "rto": a retransmission's first gap is about the sender's own RTO (its tcpi_rto).
struct SenderRto {
  bool operator==(const SenderRto&) const = default;
};
/// The first gap a retransmission is expected after: the sender's RTO, or a duration.
using RetransmitGap = std::variant<SenderRto, Millis>;

/// check = "retransmitted": the segment is seen again with the same sequence number.
struct RetransmittedExpect {
  Selector segment;                    // segment + from (+ connection)
  std::optional<std::uint32_t> count;  // exact number of retransmissions; unset: at least one
  std::optional<RetransmitGap> after;  // after = "rto" or "200ms": first gap ~ this; unset: any
  bool backoff = false;                // each later gap ~ double the one before
  std::size_t line = 0;
};

/// check = "state": a side's socket passes through / ends in a state.
struct StateExpect {
  SideRef side = Side::client;
  std::optional<TcpState> reaches;
  std::optional<TcpState> ends_in;
  std::optional<TcpState> never;
  std::optional<ConnectionNumber> connection;  // unset: every connection
  std::size_t line = 0;
};

/// check = "reset": how many RSTs a side's kernel sent (on the wire).
struct ResetExpect {
  std::optional<SideRef> from;         // unset: either side
  std::optional<std::uint32_t> count;  // exact; unset: at least one
  bool injected = false;               // injected = true: lastack's own (inject-rst) RSTs count too
  // received-by = "client": the RSTs that side's kernel accepted (tcp:tcp_receive_reset), instead
  // of those sent; `from` and `injected` do not apply then.
  std::optional<Side> received_by;
  std::optional<ConnectionNumber> connection;  // unset: every connection
  std::size_t line = 0;
};

/// check = "app": what an agent saw; under `lastack exec`, how the user's command ended.
struct AppExpect {
  SideRef side = Side::client;
  std::optional<std::string> sees;       // "eof", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ok" ...
  std::optional<std::uint64_t> received; // total bytes read
  std::optional<std::uint64_t> sent;     // total bytes written
  std::optional<int> exit_status;        // exit = N (exec): the command's exit status (128 + S: signal S)
  std::optional<std::string> output;     // output = "regex" (exec): ECMAScript, searched in its output
  // stale-from = N: some bytes this side read are its peer's bytes of connection N,
  // delivered in a later connection on the same ports (an old duplicate segment landed).
  std::optional<ConnectionNumber> stale_from;
  std::size_t line = 0;
};

/// check = "timewait": who entered TIME_WAIT, for how long, and whether it restarted.
struct TimeWaitExpect {
  std::optional<std::vector<SideRef>> entered_by;  // exactly these sides ([] = nobody)
  std::optional<Millis> expires_min, expires_max; // timer remaining when first seen
  std::optional<bool> restarted;                // timer restarted by a retransmitted FIN
  std::optional<ConnectionNumber> connection;  // unset: every connection
  std::size_t line = 0;
};

/// check = "segments": how many wire segments match, whatever their fate (dropped ones count).
struct SegmentsExpect {
  Selector segment;                    // segment (required) + from + connection
  std::optional<Role> with;            // a second role the segment must also carry
  CountBound<std::uint32_t> bound;     // how many
  std::size_t line = 0;
};

/// check = "close": how many wire segments the close took, from the first FIN to the first
/// final-ack, both directions, retransmissions included.
struct CloseExpect {
  std::uint32_t segments = 4;
  std::optional<ConnectionNumber> connection;  // unset: every connection
  std::size_t line = 0;
};

/// check = "connections": how many distinct connections appeared on the wire.
struct ConnectionsExpect {
  std::uint32_t count = 1;
  std::size_t line = 0;
};

/// check = "socket-held": no socket of `side` is left in one of `states` when the run ends, or,
/// with `longer_than`, held in one longer than that (an app that never closes after the peer's
/// FIN leaks a socket in CLOSE_WAIT). Judged in expectations_sockets.cpp.
struct SocketHeldExpect {
  std::optional<SideRef> side;                         // unset: either side
  std::vector<TcpState> states{TcpState::CLOSE_WAIT};  // any of these
  std::optional<Millis> longer_than;                   // unset: still in it at the end fails
  // longer-than = "rtt": longer than one round trip as the run measured it, within its timing
  // bound (oracle: the threshold is filled in from the trace, and printed)
  bool longer_than_rtt = false;
  std::size_t line = 0;
};

/// check = "counter": how much one of the kernel's own counters of a side's namespace changed
/// over the run ("TcpExt.PAWSEstab": /proc/net/netstat, "Tcp.OutRsts": /proc/net/snmp).
/// Judged in expectations_counters.cpp.
struct CounterExpect {
  Side side = Side::server;
  std::string name;                    // "Group.Name", as the kernel's files spell it
  CountBound<std::int64_t> change;     // how much it changed (signed: a gauge can go down)
  std::size_t line = 0;
};

using Expectation =
    std::variant<RetransmittedExpect, StateExpect, ResetExpect, AppExpect, TimeWaitExpect,
                 SegmentsExpect, CloseExpect, ConnectionsExpect, SocketHeldExpect, CounterExpect>;

/// One direction of the [link]: what the path between the sides does to every segment that
/// crosses it that way (decide/link_model). All zero: a plain wire.
struct LinkDirection {
  Millis latency{0};                  // one way: each segment arrives this much later
  Millis jitter{0};                   // the delay is drawn uniformly in latency ± jitter (never below 0)
  bool reorder = false;               // true: jitter may let a segment overtake an earlier one
  std::optional<std::uint64_t> rate;  // bits per second of IP packet: a bandwidth cap (unset: none)
  // The rate's bounded queue: bytes or segments waiting to be sent (one of them; with a rate and
  // neither given, 64 KiB); a segment that does not fit is dropped by the link.
  std::optional<std::uint64_t> queue_bytes;
  std::optional<std::uint32_t> queue_segments;
  double loss = 0;       // probability that a segment is lost (drawn on the run's seed)
  double duplicate = 0;  // probability that a segment arrives twice (drawn on the run's seed)
  bool operator==(const LinkDirection&) const = default;
  /// True when this direction changes anything.
  bool active() const {
    return latency.count() > 0 || jitter.count() > 0 || rate.has_value() || loss > 0 || duplicate > 0;
  }
};

/// The [link] table: the path between client and server, per sending side
/// ([link.client-to-server] is from[client]); `[link]` alone sets both directions.
struct Link {
  PerSide<LinkDirection> from;
  std::size_t line = 0;  // where [link] starts (0: from the command line)
  bool operator==(const Link&) const = default;
  /// True when either direction changes anything.
  bool active() const { return from[Side::client].active() || from[Side::server].active(); }
};

/// A whole policy file.
struct Policy {
  std::string name;
  std::string summary;       // one line, for `lastack list`
  std::string explanation;   // optional longer text for `lastack explain`
  std::string seed;          // optional: which seed claim it answers
  std::string file;          // where it was read from
  Scenario scenario;
  std::vector<FaultRule> faults;
  std::vector<LabAction> lab;
  std::vector<Expectation> expect;
  std::optional<Link> link;  // [link]: the path's latency, jitter, rate, loss, duplication
};

}  // namespace lastack
