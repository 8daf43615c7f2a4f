#include "lastack/run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <utility>
#include <type_traits>
#include <map>
#include <memory>

#include "agents/agent.hpp"
#include "agents/agent_group.hpp"
#include "harness/core/oracle/cross_examination.hpp"
#include "lastack/error.hpp"
#include "lastack/flow_tracker.hpp"
#include "lastack/netstat.hpp"
#include "harness/core/trace/retransmission_labels.hpp"
#include "harness/core/wire/segment_builder.hpp"
#include "harness/core/base/stable_order.hpp"
#include "harness/core/oracle/verdicts.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "harness/engine/agent_process.hpp"
#include "harness/engine/interceptor.hpp"
#include "harness/engine/kernel_observer.hpp"
#include "harness/engine/lab.hpp"
#include "harness/engine/socket_observer.hpp"
#include "harness/sys/observe/kernel_config.hpp"
#include "harness/sys/net/net_counters.hpp"
#include "lastack/privilege.hpp"
#include "harness/engine/wire_capture.hpp"

namespace lastack {

namespace {
constexpr auto kIdlePoll = std::chrono::milliseconds(20);
// How often a settling run looks whether it may end early (core/quiescence.hpp).
constexpr auto kSettledPoll = std::chrono::milliseconds(4);
// Bytes per read or write call of each agent copy when a scenario runs N connections at once.
constexpr std::size_t kConcurrentIoChunk = 4 * 1024;
// Headers only, unless a rule duplicates segments: the copy must carry the payload.
constexpr std::uint32_t kHeaderCopyRange = 128;  // IPv6 (40) + the longest TCP header (60), aligned
constexpr std::uint32_t kFullCopyRange = 0xffff;

asio::ip::address to_asio(const IpAddress& a) {
  if (a.family == IpFamily::v4)
    return asio::ip::address_v4(asio::ip::address_v4::bytes_type{a.bytes[0], a.bytes[1], a.bytes[2], a.bytes[3]});
  asio::ip::address_v6::bytes_type b;
  std::copy(a.bytes.begin(), a.bytes.end(), b.begin());
  return asio::ip::address_v6(b);
}

std::string kernel_release() {
  std::ifstream in("/proc/sys/kernel/osrelease");
  std::string release;
  std::getline(in, release);
  return release;
}

bool needs_payload(const Policy& policy) {
  return std::any_of(policy.faults.begin(), policy.faults.end(),
                     [](const FaultRule& f) { return f.action == ActionKind::duplicate; });
}

// TcpExtTCPTimeWaitOverflow as `ns` counts it: a TIME_WAIT the kernel skipped (nullopt: unreadable).
std::optional<std::uint64_t> timewait_overflow(const sys::NetNamespace& ns) {
  const auto text = sys::read_proc_net(ns, "netstat");
  return text ? netstat_counter(*text, "TcpExt", "TCPTimeWaitOverflow") : std::nullopt;
}

// Both sides' kernel counters now (each nullopt when unreadable).
struct SideCounters {
  std::optional<CounterSnapshot> client, server;
};
SideCounters read_side_counters(const Lab& lab) {
  return {sys::read_net_counters(lab.client()), sys::read_net_counters(lab.server())};
}

// Each counter's change; nullopt unless both snapshots were read.
std::optional<CounterDeltas> changes(const std::optional<CounterSnapshot>& start,
                                     const std::optional<CounterSnapshot>& end) {
  if (!start || !end) return std::nullopt;
  return counter_deltas(*start, *end);
}

// The ports whose sockets the observer samples: the options' (exec's --port), else the scenario's.
std::vector<std::uint16_t> observed_ports(const Policy& policy, const RunOptions& options) {
  if (!options.ports.empty()) return options.ports;
  return {policy.scenario.port};
}

// One tick of the kernel's timer wheel: CONFIG_HZ as the kernel publishes it; when it does
// not, 10 ms, the coarsest tick Linux builds with (bounds widen, never narrow).
std::chrono::microseconds kernel_jiffy() {
  const auto hz = sys::kernel_hz();
  return std::chrono::microseconds(1'000'000 / hz.value_or(100));
}

// As root the kernel reports every state change exactly (BPF tracepoints); inside a user
// namespace BPF is refused, so states stay sampled. A refusal as root is an EnvironmentError.
std::optional<KernelObserver> open_kernel_observer(asio::io_context& io, const RunClock& clock, const Lab& lab) {
  std::optional<KernelObserver> observer;
  if (sys::current_privilege_mode() == sys::PrivilegeMode::root)
    observer.emplace(io, clock, sys::BpfObserver::open(lab.client(), lab.server()));
  return observer;
}

// The whole-wire capture, unless the options leave it out (then nothing may be queued: a queued
// segment would be judged without the wire it sits in).
std::optional<WireCapture> open_capture(asio::io_context& io, const RunClock& clock, Lab& lab,
                                        const RunOptions& options) {
  if (options.observe_wire)
    return std::optional<WireCapture>(std::in_place, io, clock, lab.wire(), lab.take_capture());
  if (options.capture != Capture::none)
    throw InputError("observe_wire = false needs capture none: queued segments need the whole wire");
  return std::nullopt;
}

// Drives one run on one io_context: agents, interceptor, observer, lab actions, end conditions.
class RunDriver {
 public:
  RunDriver(const Policy& policy, const RunOptions& options, Lab& lab, const AgentFactory& factory)
      : policy_(policy),
        options_(options),
        lab_(lab),
        capture_(open_capture(io_, clock_, lab, options)),
        interceptor_(io_, clock_,
                     sys::NfQueuePort::open_in(lab.wire(), options.queue_num,
                                               needs_payload(policy) ? kFullCopyRange : kHeaderCopyRange),
                     sys::RawInjector::open_in(lab.wire()), FlowTracker({lab.addresses().client}), policy,
                     [this](const WireEvent& ev) { on_segment(ev); }),
        observer_(io_, clock_, sys::SockDiag::open_in(lab.client()), sys::SockDiag::open_in(lab.server()),
                  options.ipv6 ? IpFamily::v6 : IpFamily::v4, observed_ports(policy, options),
                  options.listening_ports, kernel_jiffy()),
        kernel_(open_kernel_observer(io_, clock_, lab)),
        settle_(io_),
        early_(io_),
        deadline_(io_),
        factory_(factory) {
    // The capture is bound and the queue too (members above) before any rule sends segments to it.
    lab_.apply_queue_rules();
    asio::ip::tcp::endpoint server_endpoint(to_asio(lab.addresses().server), policy.scenario.port);
    server_ = make_agent(Side::server, policy.scenario.server, server_endpoint);
    client_ = make_agent(Side::client, policy.scenario.client, server_endpoint);
  }

  /// Run to completion; returns the merged trace.
  Trace run() {
    counters_at_start_ = read_side_counters(lab_);  // the lab is up; no agent has a socket yet
    server_->prepare();
    if (capture_) capture_->start();
    interceptor_.start();
    observer_.start();
    if (kernel_) kernel_->start();
    deadline_at_ = clock_.now() + policy_.scenario.timeout;
    deadline_.expires_after(policy_.scenario.timeout);
    deadline_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      // Programs still running are a timeout; done ones were only being watched for what the
      // kernel could still add, and the pending list says what that was.
      if (!settling_)
        lab_events_.push_back({clock_.now(),
                               fmt::format("timeout: the run did not finish within {} ms",
                                           policy_.scenario.timeout.count()),
                               LabEventKind::timeout});
      finish();
    });
    server_->start([this] { agent_done(Side::server); });
    client_->start([this] { agent_done(Side::client); });
    io_.run();
    return merge();
  }

 private:
  // A side that must die with its socket open (`exit`) runs as a `lastack agent` process;
  // the others stay in-process (no fork, no exec).
  std::unique_ptr<AgentRunner> make_agent(Side side, const std::vector<Step>& steps, asio::ip::tcp::endpoint ep) {
    AgentConfig config;
    config.side = side;
    config.steps = steps;
    config.endpoint = ep;
    config.client_address = to_asio(lab_.addresses().client);
    const sys::NetNamespace& ns = lab_.side(side);
    config.in_namespace = [&ns](const std::function<void()>& fn) { sys::in_netns(ns, fn); };
    config.now = [this] { return clock_.now(); };
    config.on_event = [this](const AppEvent& e) { app_events_.push_back(e); };
    if (factory_) return factory_(std::move(config), lab_, io_, clock_);
    const bool exits = std::any_of(steps.begin(), steps.end(), [](const Step& s) { return s.kind == StepKind::exit; });
    if (exits) return std::make_unique<AgentProcess>(io_, std::move(config), ns, clock_);
    if (const std::uint32_t n = policy_.scenario.connections; n > 1) {
      config.io_chunk = kConcurrentIoChunk;  // N buffers per side: keep them small
      return std::make_unique<AgentGroup>(io_, config, n);
    }
    return std::make_unique<Agent>(io_, std::move(config));
  }

  void agent_done(Side side) {
    ++agents_done_;
    const auto& finish = policy_.scenario.finish_with;
    if (finish ? *finish != side : agents_done_ < 2) return;
    settling_ = true;
    last_activity_ = clock_.now();
    settle_until_ = clock_.now() + policy_.scenario.settle;
    settle_.expires_after(policy_.scenario.settle);
    settle_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) wait_evidence();
    });
    if (may_end_early()) watch_settled();
  }

  // Ending before the settle time is up is only sound when nothing outside the lab's sockets can
  // still act: both scenario agents are done (no `finish` side still running, no user commands
  // under `lastack exec`, whose children could still connect).
  bool may_end_early() const {
    return !factory_ && !options_.listening_ports && !policy_.scenario.finish_with && agents_done_ == 2;
  }

  void watch_settled() {
    early_.expires_after(kSettledPoll);
    early_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !finished_) check_settled();
    });
  }

  // The run ends early once, for settled_grace, nothing was held, delayed or pending, every
  // socket of both namespaces was settled through the rest of the settle time (quiescence.hpp),
  // and no new segment appeared: then nothing the checks look at can change before the settle
  // time would have ended it. Otherwise it keeps settling as before.
  void check_settled() {
    const Instant now = clock_.now();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(settle_until_ - now);
    if (left <= std::chrono::milliseconds(0)) return;  // the settle timer ends the run
    const std::size_t activity = interceptor_.events().size() + (capture_ ? capture_->frames_read() : 0);
    const bool settled = interceptor_.idle() && pending_lab_ == 0 && why_unsettled(observer_.sockets_now(), left).empty();
    if (!settled || activity != settled_activity_ || !settled_since_) settled_since_ = settled ? std::optional(now) : std::nullopt;
    settled_activity_ = activity;
    if (settled_since_ && now - *settled_since_ >= settled_grace) return finish();
    watch_settled();
  }

  // Once settled: keep observing while the kernel or the lab may still add evidence due before
  // the deadline (an armed timer, a delayed ACK owed, a held segment, a lab action), then end.
  void wait_evidence() {
    if (finished_) return;
    const auto pending = pending_now();
    const bool due_in_time = std::any_of(pending.begin(), pending.end(),
                                         [this](const PendingEvidence& p) { return p.due < deadline_at_; });
    if (!due_in_time) return finish();
    settle_.expires_after(kIdlePoll);
    settle_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) wait_evidence();
    });
  }

  // What could still add evidence now: the observed sockets' timers (a sample), a delayed ACK
  // the kernel may owe (HZ/2 after the wire last moved, plus the timer wheel's slack), and what
  // the interceptor and the lab actions still have to do (their time unknown: after the deadline).
  std::vector<PendingEvidence> pending_now() {
    const Instant now = clock_.now();
    const auto sockets = observer_.timers_now();
    std::vector<PendingEvidence> out = pending_timers(sockets, now);
    // Only a full socket delays an ACK (a TIME_WAIT or request socket answers at once).
    const bool any_full_socket = std::any_of(sockets.begin(), sockets.end(), [](const SocketTimerNow& s) {
      return !s.request && s.state != TcpState::TIME_WAIT && s.state != TcpState::LISTEN && s.state != TcpState::CLOSE;
    });
    const std::size_t activity = interceptor_.events().size() + (capture_ ? capture_->frames_read() : 0);
    if (activity != activity_seen_) activity_seen_ = activity, last_activity_ = now;
    const Instant ack_due = last_activity_ + delayed_ack_max + timer_wheel_slack(delayed_ack_max, jiffy_);
    if (now < ack_due && any_full_socket) out.push_back({PendingKind::delayed_ack, std::nullopt, 0, 0, 0, std::nullopt, ack_due});
    const Instant unknown = deadline_at_ + std::chrono::hours(24);
    if (!interceptor_.idle())
      out.push_back({PendingKind::held_segment, std::nullopt, 0, 0, 0, std::nullopt,
                     interceptor_.next_release().value_or(unknown)});
    if (pending_lab_ > 0) out.push_back({PendingKind::lab_action, std::nullopt, 0, 0, 0, std::nullopt, now});
    return out;
  }

  void on_segment(const WireEvent& ev) {
    // connections = N (and exec): each connection fires its own copy of every action.
    const std::size_t connection = policy_.scenario.per_connection() ? ev.info.connection : 0;
    for (std::size_t i = 0; i < policy_.lab.size(); ++i) {
      const LabAction& action = policy_.lab[i];
      if (lab_fired_.count({i, connection}) || !selector_matches(action.on, ev.info)) continue;
      // A side named by the order of closing is whatever the tracker knows now: before the
      // connection's first FIN nobody is a closer yet, and the action waits for a later trigger.
      if (action.side_closer && !ev.info.first_closer) continue;
      const Side side = action.side_closer ? closer_side(*action.side_closer, *ev.info.first_closer) : action.side;
      lab_fired_.insert({i, connection});
      ++pending_lab_;
      auto timer = std::make_shared<asio::steady_timer>(io_, action.after);
      // The trigger is copied: the interceptor's event log may grow (and move) before the timer fires.
      timer->async_wait([this, timer, i, side, trigger = ev.segment](const boost::system::error_code& ec) {
        --pending_lab_;
        if (ec) return;
        observer_.sample();  // the state just before, in the trace
        run_lab_action(i, side, trigger);
        observer_.sample();
      });
    }
  }

  // `side`: the action's side, resolved when it was triggered.
  void run_lab_action(std::size_t i, Side side, const Segment& trigger) {
    const LabAction& action = policy_.lab[i];
    switch (action.action) {
      case LabActionKind::destroy_timewait: {
        std::size_t n = observer_.destroy_timewait(side);
        const std::string who = action.side_closer
                                    ? fmt::format("{} ({})", close_order_name(*action.side_closer), side_name(side))
                                    : std::string(side_name(side));
        lab_events_.push_back({clock_.now(),
                               fmt::format("destroyed TIME_WAIT on {}: {} socket{} (SOCK_DESTROY)", who, n,
                                           n == 1 ? "" : "s"),
                               LabEventKind::timewait_destroyed, side, n});
        break;
      }
      case LabActionKind::inject_rst:
        interceptor_.inject(build_reset_to_sender(trigger), fmt::format("injected by lab action {}: inject-rst", i + 1));
        break;
    }
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    pending_at_end_ = pending_now();  // what the kernel or the lab could still have added
    observer_.sample_final();  // the sockets as the run leaves them: its last sample, every socket listed
    // Read before the agents stop: what their stop sends belongs to the teardown, as on the wire.
    const SideCounters end = read_side_counters(lab_);
    // After the counters: every event they counted happened by now, and the trace keeps it.
    end_ = clock_.now();  // segments entering wire after this belong to the teardown
    client_counters_ = changes(counters_at_start_.client, end.client);
    server_counters_ = changes(counters_at_start_.server, end.server);
    settle_.cancel();
    early_.cancel();
    deadline_.cancel();
    client_->stop();
    server_->stop();
    end_lab_processes();
    interceptor_.stop();
    if (capture_) capture_->stop();  // after the interceptor: what it released has left wire by now
    observer_.stop();
    if (kernel_) kernel_->stop();
  }

  // What the commands left running (a daemon, a new session) ends with the run, and is named.
  void end_lab_processes() {
    for (const auto& [side, gone] : lab_.end_processes())
      for (const sys::NamespaceProcess& p : gone)
        lab_events_.push_back({clock_.now(),
                               fmt::format("{} (pid {}) was still running in the {}'s namespace after its command "
                                           "(it daemonized or left its session): ended with the run",
                                           p.command, p.pid, side_name(side)),
                               LabEventKind::note});
  }

  // The whole wire (capture) with the interceptor's verdicts, and what could not be explained.
  std::vector<WireEvent> merge_wire_events(std::vector<LabEvent>& errors) {
    MergedWire merged = merge_wire(capture_ ? capture_->segments() : std::vector<CapturedSegment>{},
                                   interceptor_.take_events(), {lab_.addresses().client}, end_);
    errors = std::move(merged.errors);
    segments_after_end_ = {merged.client_after_end, merged.server_after_end};
    for (auto& e : interceptor_.harness_errors()) errors.push_back(std::move(e));
    // First: a capture that lost frames explains every "never left" error after it.
    if (const auto drops = capture_ ? capture_->drops() : 0; drops > 0)
      errors.insert(errors.begin(), {clock_.now(),
                        fmt::format("harness error: the packet capture lost {} frame{}: the wire is incomplete", drops,
                                    drops == 1 ? "" : "s"),
                        LabEventKind::harness_error, std::nullopt, drops, HarnessCause::capture_lost});
    return std::move(merged.events);
  }

  Trace merge() {
    Trace trace;
    trace.policy = policy_.name;
    trace.ipv6 = options_.ipv6;
    trace.kernel = kernel_release();
    trace.client_sysctls = lab_.sysctls_in_force(Side::client);
    trace.server_sysctls = lab_.sysctls_in_force(Side::server);
    trace.queue_drops = interceptor_.queue_drops();
    trace.every_segment = !why_every_segment(policy_, options_.capture).empty();
    trace.wall_start = clock_.wall_start();
    trace.client_timewait_overflow = timewait_overflow(lab_.client());
    trace.server_timewait_overflow = timewait_overflow(lab_.server());
    trace.client_counters = client_counters_;
    trace.server_counters = server_counters_;
    trace.sample_interval = std::chrono::milliseconds(2);
    trace.observed_until = clock_.now();  // the observers stopped in finish()
    trace.run_end = end_;                 // and the agents were stopped after this
    trace.client_addresses = {lab_.addresses().client};
    trace.whole_wire = capture_.has_value();
    trace.wire_resolution = std::chrono::microseconds(0);  // kernel timestamps from the packet socket
    std::vector<LabEvent> errors;
    for (auto& e : merge_wire_events(errors)) trace.events.emplace_back(std::move(e));
    for (auto& e : errors) trace.events.emplace_back(std::move(e));
    for (const SocketEvent& e : observer_.events()) trace.events.emplace_back(e);
    trace.client_samples = observer_.samples(Side::client);
    trace.server_samples = observer_.samples(Side::server);
    trace.final_sample_lists_all = true;  // SocketObserver::sample_final()
    trace.pending_at_end = pending_at_end_;
    trace.client_segments_after_end = segments_after_end_.first;
    trace.server_segments_after_end = segments_after_end_.second;
    trace.jiffy = kernel_jiffy();
    if (kernel_) {
      kernel_->drain();  // everything the kernel wrote up to now: nothing is left in the ring
      trace.kernel_source = KernelSource::traced;
      if (const std::uint64_t lost = kernel_->lost())
        lab_events_.push_back({clock_.now(), fmt::format("harness error: the BPF ring buffer lost {} kernel event{}",
                                                         lost, lost == 1 ? "" : "s"),
                               LabEventKind::observer_missed, std::nullopt, 0, HarnessCause::observer_missed});
      if (const std::uint64_t unread = kernel_->unread())
        lab_events_.push_back({clock_.now(),
                               fmt::format("harness error: the BPF observer wrote {} kernel event{} the run never read",
                                           unread, unread == 1 ? "" : "s"),
                               LabEventKind::observer_missed, std::nullopt, unread, HarnessCause::observer_missed});
      if (const std::uint64_t skipped = kernel_->skipped())
        lab_events_.push_back(
            {clock_.now(),
             fmt::format("harness error: the kernel skipped the BPF observer {} time{} (it was already running on "
                         "that CPU): kernel events are missing",
                         skipped, skipped == 1 ? "" : "s"),
             LabEventKind::observer_missed, std::nullopt, skipped, HarnessCause::observer_missed});
      // What the kernel did after the run's end is the teardown's (the agents stopped), as on the wire.
      for (TraceEvent e : kernel_->events())
        if (event_time(e) <= *end_) trace.events.push_back(std::move(e));
    }
    for (const auto& e : app_events_) trace.events.emplace_back(e);
    for (const auto& e : lab_events_) trace.events.emplace_back(e);
    stable_sort_by_key(trace.events, [](const TraceEvent& e) { return event_time(e); });
    attribute_connections(trace);  // each socket (cookie) to the wire connection its numbers name
    label_retransmissions(trace);  // traced: the kernel's retransmissions, not the wire's repeats
    return trace;
  }

  const Policy& policy_;
  const RunOptions& options_;
  Lab& lab_;
  asio::io_context io_;
  RunClock clock_;
  std::optional<WireCapture> capture_;  // absent only for the bench's bare plain path
  Interceptor interceptor_;
  SocketObserver observer_;
  std::optional<KernelObserver> kernel_;  // as root only: exact kernel events
  asio::steady_timer settle_, early_, deadline_;
  Instant settle_until_{};
  std::optional<Instant> settled_since_;  // settled, with no new segment, since then
  std::size_t settled_activity_ = 0;      // segments logged and captured when last looked
  std::unique_ptr<AgentRunner> client_, server_;
  std::vector<AppEvent> app_events_;
  std::vector<LabEvent> lab_events_;
  std::set<std::pair<std::size_t, std::size_t>> lab_fired_;  // (action, connection or 0) fired
  const AgentFactory& factory_;
  int agents_done_ = 0;
  int pending_lab_ = 0;
  bool finished_ = false;
  std::optional<Instant> end_;
  Instant deadline_at_{};             // the scenario's timeout, on the run's clock
  bool settling_ = false;             // the programs are done: the run only watches now
  Instant last_activity_{};           // when the wire last moved, as the polls saw it
  std::size_t activity_seen_ = 0;     // segments logged and frames captured at the last poll
  std::chrono::microseconds jiffy_ = kernel_jiffy();
  std::vector<PendingEvidence> pending_at_end_;
  std::pair<std::uint64_t, std::uint64_t> segments_after_end_{0, 0};  // client's, server's: left out
  SideCounters counters_at_start_;
  std::optional<CounterDeltas> client_counters_, server_counters_;
};
}  // namespace

RunResult run_policy(const Policy& policy, const RunOptions& options) { return run_policy(policy, options, {}); }

namespace {

RunResult run_once(const Policy& policy, const RunOptions& options, const AgentFactory& make_agent) {
  LabConfig config;
  config.ipv6 = options.ipv6;
  config.client_sysctls = policy.scenario.client_sysctls;
  config.server_sysctls = policy.scenario.server_sysctls;
  config.mtu = policy.scenario.mtu;
  for (const auto& [key, line] : policy.scenario.sysctl_lines)
    config.sysctl_origin[key] = fmt::format("{}:{}", policy.file, line);
  config.queue_rules = compile_queue_plan(policy, options.capture, options.queue_num, options.ipv6);
  config.capture_wire = options.observe_wire;
  Lab lab(config);

  RunResult result;
  RunDriver driver(policy, options, lab, make_agent);
  result.trace = driver.run();
  // The timeout is in the trace (a LabEvent of kind timeout): a replay judges it the same way.
  result.results = judge_trace(result.trace, policy);
  result.verdict = run_verdict(result.results);
  return result;
}

}  // namespace

RunResult run_policy(const Policy& policy, const RunOptions& options, const AgentFactory& make_agent) {
  const auto started = std::chrono::steady_clock::now();
  RunResult result = run_once(policy, options, make_agent);
  std::vector<std::string> discarded;
  // A tracepoint the kernel did not hand to the BPF programs (seen on a VM whose softirqs ran over
  // a foreign task) leaves the record short, not the experiment wrong: a fresh lab repeats it.
  for (unsigned attempt = 1; attempt < observer_attempts; ++attempt) {
    const bool sources_disagree = std::any_of(result.results.begin(), result.results.end(), [](const CheckResult& r) {
      return r.harness && r.outcome == Outcome::fail;
    });
    if (!sources_disagree && harness_errors(result.trace).empty()) break;
    const auto misses = observer_misses_only(result.trace);
    if (misses.empty()) break;
    discarded.push_back(fmt::format("attempt {} discarded (the kernel observer missed events: {}{})", attempt,
                                    misses.front(),
                                    misses.size() > 1 ? fmt::format("; and {} more", misses.size() - 1) : ""));
    result = run_once(policy, options, make_agent);
  }
  for (auto it = discarded.rbegin(); it != discarded.rend(); ++it)
    result.trace.events.insert(result.trace.events.begin(), LabEvent{Instant{}, *it, LabEventKind::note});
  result.discarded_attempts = std::move(discarded);
  result.wall = std::chrono::steady_clock::now() - started;
  return result;
}

}  // namespace lastack
