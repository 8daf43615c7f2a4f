#pragma once
// One run on one io_context: the agents, the interceptor, the observers and the lab actions, and
// the run's end as core/run_end decides it. The merged trace is what run_policy judges.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "agents/agent_runner.hpp"
#include "harness/core/decide/lab_actions.hpp"
#include "harness/core/decide/run_end.hpp"
#include "harness/engine/control_server.hpp"
#include "harness/engine/interceptor.hpp"
#include "harness/engine/kernel_observer.hpp"
#include "harness/engine/lab.hpp"
#include "harness/engine/run_clock.hpp"
#include "harness/engine/socket_observer.hpp"
#include "harness/engine/wire_capture.hpp"
#include "lastack/asio.hpp"
#include "lastack/netstat.hpp"
#include "lastack/pending.hpp"
#include "lastack/per_side.hpp"
#include "lastack/policy.hpp"
#include "lastack/run.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// Both sides' kernel counters at one moment (each nullopt when unreadable).
using SideCounters = PerSide<std::optional<CounterSnapshot>>;

/// Drives one run on one io_context: agents, interceptor, observers, lab actions, the run's end.
class RunDriver {
 public:
  /// Opens the run's capture, queue, observers and agents in `lab` (built for `policy`), and
  /// loads the queue rules once all are bound; `factory` makes the agents when set (exec, the
  /// in-process API).
  RunDriver(const Policy& policy, const RunOptions& options, Lab& lab, const AgentFactory& factory);
  /// Run to completion; returns the merged trace.
  Trace run();

 private:
  // A side that must die with its socket open (`exit`) runs as a `lastack agent` process;
  // the others stay in-process (no fork, no exec).
  std::unique_ptr<AgentRunner> make_agent(Side side, const std::vector<Step>& steps, asio::ip::tcp::endpoint ep);
  // The run's end (core/run_end): the machine says what to do, the driver does it, in order.
  void feed(const run_end::Input& input);
  // One task the machine asked for (the end's own tasks in perform_end).
  void perform(const run_end::Action& a);
  // `input` is fed when `timer` fires after `wait` (not when it is cancelled).
  void arm(asio::steady_timer& timer, std::chrono::milliseconds wait, run_end::Input input);
  // Settled: nothing held, delayed or pending, and every socket of both namespaces settled
  // through the rest of the settle time (quiescence.hpp); the sockets are sampled only then.
  run_end::SettledLook look_settled(std::chrono::milliseconds left);
  // When the first evidence the kernel or the lab may still add is due (an armed timer, a
  // delayed ACK owed, a held segment, a lab action).
  run_end::EvidenceLook look_evidence();
  // The run's end, task by task, in the order core/run_end gives.
  void perform_end(run_end::Task task);
  // What could still add evidence now: the observed sockets' timers (a sample), a delayed ACK
  // the kernel may owe (HZ/2 after the wire last moved, plus the timer wheel's slack), and what
  // the interceptor and the lab actions still have to do (their time unknown: after the deadline).
  std::vector<PendingEvidence> pending_now();
  // A segment on the wire: each lab action it fires (core/lab_actions) runs after its wait.
  void on_segment(const WireEvent& ev);
  // `f.side`: the action's side, resolved when it was triggered.
  void run_lab_action(const LabFiring& f, const Segment& trigger, Side trigger_from);
  // What the commands left running (a daemon, a new session) ends with the run, and is named.
  void end_lab_processes();
  // The whole wire (capture) with the interceptor's verdicts, and what could not be explained.
  std::vector<WireEvent> merge_wire_events(std::vector<LabEvent>& errors);
  // Every observer's events in one trace, on one clock, with the run's settings.
  Trace merge();
  // The kernel observer's events up to the run's end, and its misses as harness errors.
  void add_kernel_events(Trace& trace);

  const Policy& policy_;
  const RunOptions& options_;
  Lab& lab_;
  asio::io_context io_;
  RunClock clock_;
  std::optional<WireCapture> capture_;  // absent only for the bench's bare plain path
  Interceptor interceptor_;
  std::optional<ControlServer> control_;  // --control: the test's requests, applied through interceptor_
  SocketObserver observer_;
  std::optional<KernelObserver> kernel_;  // as root only: exact kernel events
  asio::steady_timer settle_, early_, deadline_;  // the settle time and evidence polls; settled polls; the timeout
  PerSide<std::unique_ptr<AgentRunner>> agents_;
  std::vector<AppEvent> app_events_;
  std::vector<LabEvent> lab_events_;
  LabActionEngine lab_actions_;  // which [[lab]] actions the wire triggered, and how many wait to run
  const AgentFactory& factory_;
  run_end::Rules end_rules_;     // the run's end (core/run_end): its terms and where it is
  run_end::State end_state_;
  std::optional<Instant> end_;
  Instant last_activity_{};           // when the wire last moved, as the polls saw it
  std::size_t activity_seen_ = 0;     // segments logged and frames captured at the last poll
  std::chrono::microseconds jiffy_;  // the kernel's tick, for the delayed ACK a socket may owe
  std::vector<PendingEvidence> pending_at_end_;
  PerSide<std::uint64_t> segments_after_end_;  // each sender's: left out
  SideCounters counters_at_start_, counters_at_end_;
  PerSide<std::optional<CounterDeltas>> counters_;
};

}  // namespace lastack
