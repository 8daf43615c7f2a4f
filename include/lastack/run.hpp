#pragma once
// One run of a policy: build the lab, run the agents through the interceptor while observing,
// then judge the trace with the oracle.
#include <functional>
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lastack/oracle.hpp"
#include "lastack/policy.hpp"
#include "lastack/capture.hpp"
#include "lastack/trace.hpp"

namespace boost::asio {
class io_context;
}

namespace lastack {

struct AgentConfig;
class AgentRunner;
class Lab;
class RunClock;

/// Makes one side's runner for a run, in place of the scenario's agents (`lastack exec`): gets
/// the config the scenario's agent would get (side, steps, server endpoint, clock, event sink).
using AgentFactory = std::function<std::unique_ptr<AgentRunner>(AgentConfig config, const Lab& lab,
                                                                 boost::asio::io_context& io, const RunClock& clock)>;

struct RunOptions {
  bool ipv6 = false;
  Capture capture = Capture::all;  // selective can reorder the wire (see capture.hpp)
  std::uint16_t queue_num = 0;  // each run has its own wire namespace, so 0 never collides
  // The sockets observed (sock_diag): those using one of `ports`, local or remote (empty: the
  // scenario's port); with `listening_ports`, also any port a socket listens on in the server
  // namespace during the run (`lastack exec` without --port). The wire is whole either way.
  std::vector<std::uint16_t> ports;
  bool listening_ports = false;
  // The packet capture in wire (the whole-wire observer). false only with Capture::none: the
  // bench's bare plain path, to measure what the observer costs.
  bool observe_wire = true;
  // `lastack wrap`: both ends in ONE namespace, on its loopback (one interface, lo, whose MTU the
  // lab pins). Segments are queued once, at INPUT, on `ports` only (empty: every TCP segment);
  // each connection's sides come from its SYN, each socket's from its cookie (core/loopback_sides).
  bool loopback = false;
  // The seed probabilistic faults draw from (`--seed`); unset: the policy's random-seed, else
  // one from the OS. The trace records the one used (Trace::random_seed).
  std::optional<std::uint64_t> seed;
  // `--control`: a listening AF_UNIX socket (the caller's; the run duplicates it) whose requests
  // add and remove faults, set the link and mark the trace while the run goes; -1: none.
  int control_fd = -1;
};

struct RunResult {
  Trace trace;
  std::vector<CheckResult> results;
  RunVerdict verdict = RunVerdict::fail;  // fail, inconclusive (a policy expectation not checked), pass
  Duration wall{};      // how long the run took, discarded attempts included
  // Attempts thrown away because the kernel observer missed events the kernel counted (the
  // experiment was sound, its record was not), each in words; the trace is the last attempt's.
  std::vector<std::string> discarded_attempts;

  /// True only when the verdict is pass (inconclusive is not).
  bool passed() const { return verdict == RunVerdict::pass; }
};

/// How many times a run is tried when each attempt's only harness errors are the kernel
/// observer's misses: the last attempt stands, harness errors and all.
inline constexpr unsigned observer_attempts = 3;

/// Run `policy` in a fresh lab: once, or again (up to observer_attempts, each in a fresh lab)
/// while the kernel observer missed events. Throws EnvironmentError / HarnessError when the lab
/// cannot be built or misbehaves; expectation failures are results, not exceptions.
RunResult run_policy(const Policy& policy, const RunOptions& options);
/// The same, with both sides made by `make_agent` (empty: the scenario's own agents).
RunResult run_policy(const Policy& policy, const RunOptions& options, const AgentFactory& make_agent);

}  // namespace lastack
