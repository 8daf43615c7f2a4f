#pragma once
// What the checks of the endpoints claim and saw, typed (lastack/finding.hpp holds the rest):
// a socket held in a state (socket-held), TIME_WAIT (timewait), an agent's app (app).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lastack/clock.hpp"
#include "lastack/policy.hpp"
#include "lastack/roles.hpp"
#include "lastack/side_ref.hpp"
#include "lastack/tcp_state.hpp"
#include "lastack/timing_bound.hpp"
#include "lastack/trace.hpp"

namespace lastack {

struct Finding;  // lastack/finding.hpp

// ---- what they claim ----

/// No socket of the subject's side held in one of `states` at the run's end, or, with
/// `longer_than`, held in one longer than that (socket-held).
struct HeldClaim {
  std::vector<TcpState> states;
  std::optional<Millis> longer_than;  // with `rtt`: the round trip measured plus its bound's late side
  // longer-than = "rtt": the round trip this run measured, and the timing bound it was judged with.
  struct RoundTrip {
    Duration measured{};
    TimingBound bound;
    bool operator==(const RoundTrip&) const = default;
  };
  std::optional<RoundTrip> rtt;
  bool operator==(const HeldClaim&) const = default;
};

/// A side a policy names in a list, and the side it names on this trace (unset: a closer no FIN
/// settles).
struct SideNamed {
  SideRef ref = Side::client;
  std::optional<Side> side;
  bool operator==(const SideNamed&) const = default;
};

/// Who enters TIME_WAIT, its timer when first seen, and whether it restarted (timewait).
struct TimeWaitClaim {
  std::optional<std::vector<SideNamed>> entered_by;  // exactly these sides ([] = nobody)
  std::optional<Millis> expires_min, expires_max;   // the timer's remaining time when first seen
  std::optional<bool> restarted;                     // the timer restarted by a retransmitted FIN
  bool operator==(const TimeWaitClaim&) const = default;
};

/// What an agent's app claims to see (app: sees, received, sent, stale-from).
struct AppClaim {
  std::optional<std::string> sees;            // "eof", "ECONNRESET"; "ok": every step ok (or eof)
  std::optional<std::uint64_t> received, sent;  // total bytes read, written
  std::optional<ConnectionNumber> stale_from;  // some bytes read are the peer's of that connection
  // lastack exec's commands: how the side's command ended and what it printed (a regex).
  std::optional<int> exit_status;
  std::optional<std::string> output;
  bool commands = false;  // judged as lastack exec's commands (exit, output), the agents' steps apart
  bool operator==(const AppClaim&) const = default;
};

// ---- socket-held ----

/// A socket as a check names it: its side, its two ends as the wire showed them, its connection.
struct SocketSeen {
  Side side = Side::client;
  bool listener = false;
  std::optional<IpAddress> local, remote;  // unset: no segment on the wire named the address
  std::uint16_t local_port = 0, remote_port = 0;
  std::optional<ConnectionNumber> connection;
  bool operator==(const SocketSeen&) const = default;
};

/// One stretch of a socket in a state the claim names, as long as the trace can tell.
struct HoldSeen {
  SocketSeen socket;
  TcpState state = TcpState::CLOSE_WAIT;
  Duration at_least{}, at_most{};  // a sampled change is known only between two samples
  bool exact = false;              // at_least == at_most (traced, or inferred from the wire)
  bool at_end = false;             // still in the state when the run ended
  bool operator==(const HoldSeen&) const = default;
};

/// Why a socket's hold could not be judged.
enum class HoldDoubt : std::uint8_t {
  timewait_unknown,    // its timewait socket's states are not known (`detail` says why)
  sampled_at_end,      // last sampled in `state` just before the end, with segments after
  ended_before_bound,  // still in `state` at the end, held `at_least` so far: less than the bound
  between_samples,     // held `state` between `at_least` and `at_most`: the bound lies between
  last_state_unknown,  // its last state is not known: it may have entered a claimed one at the end
};
struct HoldUnknown {
  SocketSeen socket;
  HoldDoubt doubt = HoldDoubt::last_state_unknown;
  TcpState state = TcpState::CLOSE_WAIT;
  Duration at_least{}, at_most{};
  std::string detail;  // timewait_unknown: the trace's own words
  bool operator==(const HoldUnknown&) const = default;
};

/// The sockets a socket-held check looked at (socket-held).
struct HoldsSeen {
  std::size_t sockets = 0;             // the side's sockets with observed states
  std::vector<HoldSeen> held;          // holds that break the claim
  std::vector<HoldUnknown> unknowns;   // holds it could not judge
  std::optional<HoldSeen> longest;     // the longest stretch in a claimed state
  std::optional<Duration> blind_spot;  // sampling can miss a hold this short, and the bound is shorter
  bool operator==(const HoldsSeen&) const = default;
};

// ---- timewait ----

/// Whether a side entered TIME_WAIT, on the kernel's word.
enum class Entered : std::uint8_t { yes, no, unknown };

/// A TIME_WAIT timer's restart: between two samples, its expiry moved later by at least `moved`.
struct TimerRestartSeen {
  Instant after{}, by{};
  Duration moved{};
  bool operator==(const TimerRestartSeen&) const = default;
};

/// A stretch after entering TIME_WAIT in which a restart would not show, and the segments that
/// reached the socket then.
struct BlindStretch {
  Duration blind{};
  std::size_t arrivals = 0;
  bool operator==(const BlindStretch&) const = default;
};

/// One side's TIME_WAIT.
struct SideTimeWaitSeen {
  Side side = Side::client;
  Entered entered = Entered::unknown;
  std::string why;                   // no or unknown: the trace queries' words (empty: none needed)
  std::vector<std::string> skipped;  // sockets the overflow counter says skipped TIME_WAIT
  std::optional<Millis> expires;     // its timer when first sampled (unset: never sampled)
  std::optional<Instant> sampled_at;
  std::vector<TimerRestartSeen> restarts;
  std::vector<BlindStretch> blind;
  bool operator==(const SideTimeWaitSeen&) const = default;
};

/// How the sides broke a timewait claim.
enum class TimeWaitMiss : std::uint8_t {
  entered_by,          // other sides entered than the claim names
  timer_out_of_range,  // `side`'s timer, when first seen
  no_timer,            // nobody entered, so no timer to measure
  restarted,           // the timer restarted
  never_restarted,     // it never did
};
struct TimeWaitProblem {
  TimeWaitMiss miss = TimeWaitMiss::entered_by;
  std::optional<Side> side;
  bool operator==(const TimeWaitProblem&) const = default;
};

/// Why a timewait claim could not be judged.
enum class TimeWaitDoubt : std::uint8_t {
  who_unknown,      // whether `side` entered is not known (its SideTimeWaitSeen::why says why)
  timer_unsampled,  // `side` entered, but its timer was never sampled
  blind,            // `side`'s timer could have restarted unseen (its SideTimeWaitSeen::blind)
};
struct TimeWaitUnknown {
  TimeWaitDoubt doubt = TimeWaitDoubt::who_unknown;
  Side side = Side::client;
  std::size_t stretch = 0;  // blind: which of the side's stretches
  bool operator==(const TimeWaitUnknown&) const = default;
};

/// The sides' TIME_WAIT, and what broke the claim or left it open (timewait).
struct TimeWaitSeen {
  std::vector<SideTimeWaitSeen> sides;  // client, server
  std::vector<TimeWaitProblem> problems;
  std::vector<TimeWaitUnknown> unknowns;
  std::chrono::microseconds jiffy{};  // a restart is bounded by a jiffy of the lab's kernel
  bool operator==(const TimeWaitSeen&) const = default;
};

// ---- app ----

/// One agent step as its app reported it.
struct StepSeen {
  std::string step;     // as the policy wrote it: "send 1000"
  std::string outcome;  // "ok", "eof", "ECONNRESET"
  std::uint64_t bytes = 0;
  bool operator==(const StepSeen&) const = default;
};

/// Bytes an app read that lastack's pattern says are the peer's of another connection.
struct StaleRead {
  Side reader = Side::client;
  std::string step;
  ByteRange range;              // of the reader's stream
  Side writer = Side::client;   // whose they are, as the pattern says
  ConnectionNumber connection;  // the connection they were written on
  std::uint64_t offset = 0;     // the writer's stream offset they were written at
  bool operator==(const StaleRead&) const = default;
};

/// How an app's steps broke the claim.
enum class AppMiss : std::uint8_t {
  no_steps,  // the agent reported no step
  not_seen,  // no step ended as `sees` says (ok: some step failed)
  received,  // read another number of bytes
  sent,      // wrote another number
  no_stale,  // none of what it read is the peer's of the connection named
};

/// An agent's steps, the bytes they moved, and what broke the claim (app).
struct AppSeen {
  std::vector<StepSeen> steps;
  std::uint64_t received = 0, sent = 0;  // an exchange moves its bytes each way
  std::optional<StaleRead> stale;        // the first read from stale-from's connection
  std::vector<AppMiss> problems;
  bool operator==(const AppSeen&) const = default;
};

// ---- app, lastack exec's commands ----

/// How a command broke the claim.
enum class CommandMiss : std::uint8_t {
  exit_status,  // it exited with another status
  no_match,     // its output has no match for the claim's pattern
  steps,        // lastack's agents' steps broke the claim (no command ran)
};

/// Why part of a command's claim could not be judged.
enum class CommandDoubt : std::uint8_t {
  no_exit_status,  // no exit status recorded
  no_output,       // no output recorded
  output_cut,      // no match in the output kept, and the rest was not kept
  no_command,      // lastack's own agents ran: they have no exit status or output
};

/// The side's command (or lastack's agents, when no command ran) and what broke the claim (app
/// with exit or output, or any app check under lastack exec).
struct CommandSeen {
  bool ran = false;                 // the run ran lastack exec's commands
  std::optional<AppEvent> command;  // the side's command, when it ended
  std::optional<std::string> match; // output: the text that matched
  std::vector<std::string> agents_only;  // the claim's keys only lastack's agents report ("sees", ...)
  std::vector<Finding> steps;       // no command ran: the agents' steps judged as an app check (at most one)
  std::vector<CommandMiss> problems;
  std::vector<CommandDoubt> unknowns;
  bool operator==(const CommandSeen&) const = default;
};

}  // namespace lastack
