// The run driver: starts everything on one io_context, feeds the run's end (core/run_end) what
// happens and performs what it answers, then merges every observer's events into one trace.
#include "harness/engine/run_driver.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "agents/agent.hpp"
#include "agents/agent_group.hpp"
#include "harness/core/base/stable_order.hpp"
#include "harness/core/decide/quiescence.hpp"
#include "harness/core/trace/loopback_sides.hpp"
#include "harness/core/trace/retransmission_labels.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "harness/core/wire/segment_builder.hpp"
#include "harness/engine/agent_process.hpp"
#include "harness/sys/net/net_counters.hpp"
#include "harness/sys/observe/kernel_config.hpp"
#include "lastack/error.hpp"
#include "lastack/flow_tracker.hpp"
#include "lastack/privilege.hpp"
#include "harness/core/trace/pending.hpp"
#include "harness/core/base/netstat.hpp"

namespace lastack {

namespace {
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

bool needs_payload(const Policy& policy, const RunOptions& options) {
  if (options.control_fd >= 0) return true;  // a fault control adds may duplicate
  if (policy.link && (policy.link->from[Side::client].duplicate > 0 || policy.link->from[Side::server].duplicate > 0))
    return true;  // the link's copies carry the payload too
  return std::any_of(policy.faults.begin(), policy.faults.end(),
                     [](const FaultRule& f) { return f.action == ActionKind::duplicate; });
}

// TcpExtTCPTimeWaitOverflow as `ns` counts it: a TIME_WAIT the kernel skipped (nullopt: unreadable).
std::optional<std::uint64_t> timewait_overflow(const sys::NetNamespace& ns) {
  const auto text = sys::read_proc_net(ns, "netstat");
  return text ? netstat_counter(*text, "TcpExt", "TCPTimeWaitOverflow") : std::nullopt;
}

// Both sides' kernel counters now. One namespace (`lastack wrap`) counts both sides together:
// no side's own count can be read, so neither is (a check on them says "not checked").
SideCounters read_side_counters(const Lab& lab) {
  if (lab.loopback()) return {std::nullopt, std::nullopt};
  return per_side([&lab](Side side) { return std::optional(sys::read_net_counters(lab.side(side))); });
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
    return std::optional<WireCapture>(std::in_place, io, clock, lab.wire(), lab.take_capture(), lab.loopback());
  if (options.capture != Capture::none)
    throw InputError("observe_wire = false needs capture none: queued segments need the whole wire");
  return std::nullopt;
}

}  // namespace

RunDriver::RunDriver(const Policy& policy, const RunOptions& options, Lab& lab, const AgentFactory& factory)
    : policy_(policy),
      options_(options),
      lab_(lab),
      capture_(open_capture(io_, clock_, lab, options)),
      interceptor_(io_, clock_,
                   sys::NfQueuePort::open_in(lab.wire(), options.queue_num,
                                             needs_payload(policy, options) ? kFullCopyRange : kHeaderCopyRange),
                   sys::RawInjector::open_in(lab.wire(), lab.loopback() ? kInjectedMark : 0), FlowTracker(lab.client_addresses()), policy,
                   options.seed.value_or(0), [this](const WireEvent& ev) { on_segment(ev); }),
      observer_(io_, clock_, per_side([&lab](Side side) { return sys::SockDiag::open_in(lab.side(side)); }),
                options.ipv6 ? IpFamily::v6 : IpFamily::v4, observed_ports(policy, options),
                options.listening_ports, kernel_jiffy(), std::chrono::milliseconds(2), lab.loopback()),
      kernel_(open_kernel_observer(io_, clock_, lab)),
      settle_(io_),
      early_(io_),
      deadline_(io_),
      lab_actions_(policy.lab, policy.scenario.per_connection()),
      factory_(factory),
      jiffy_(kernel_jiffy()) {
  if (options.control_fd >= 0) {
    // A fault the test adds may pick any segment: every one must reach the interceptor.
    if (why_every_segment(policy, options.capture).empty())
      throw InputError("--control needs every segment queued (capture all)");
    control_.emplace(io_, clock_, options.control_fd, interceptor_, policy, lab.loopback());
  }
  end_rules_.settle = policy.scenario.settle;
  end_rules_.finish_with = policy.scenario.finish_with;
  // Ending before the settle time is up is only sound when nothing outside the lab's sockets
  // can still act: no `finish` side still running, no user commands under `lastack exec`.
  end_rules_.may_end_early = !factory && !options.listening_ports && !policy.scenario.finish_with;
  // The capture is bound and the queue too (members above) before any rule sends segments to it.
  lab_.apply_queue_rules();
  asio::ip::tcp::endpoint server_endpoint(to_asio(lab.addresses().endpoint.server), policy.scenario.port);
  for (const Side side : {Side::server, Side::client})
    agents_[side] = make_agent(side, policy.scenario.steps[side], server_endpoint);
}

Trace RunDriver::run() {
  counters_at_start_ = read_side_counters(lab_);  // the lab is up; no agent has a socket yet
  agents_.server->prepare();
  if (capture_) capture_->start();
  interceptor_.start();
  if (control_) control_->start();
  observer_.start();
  if (kernel_) kernel_->start();
  end_rules_.deadline = clock_.now() + policy_.scenario.timeout;
  deadline_.expires_after(policy_.scenario.timeout);
  deadline_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) feed(run_end::Timeout{});
  });
  for (const Side side : {Side::server, Side::client})  // the server first: it listens
    agents_[side]->start([this, side] { feed(run_end::AgentDone{side, clock_.now()}); });
  io_.run();
  return merge();
}

std::unique_ptr<AgentRunner> RunDriver::make_agent(Side side, const std::vector<Step>& steps, asio::ip::tcp::endpoint ep) {
  AgentConfig config;
  config.side = side;
  config.steps = steps;
  config.endpoint = ep;
  config.client_address = to_asio(lab_.addresses().endpoint.client);
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

void RunDriver::feed(const run_end::Input& input) {
  run_end::Transition t = run_end::next(end_rules_, end_state_, input);
  end_state_ = t.state;
  for (const run_end::Action& a : t.actions) perform(a);
}

void RunDriver::perform(const run_end::Action& a) {
  using run_end::Task;
  switch (a.task) {
    case Task::start_settle:
      last_activity_ = clock_.now();
      return arm(settle_, a.wait, run_end::SettleTimer{});
    case Task::arm_settled_poll:
      early_.expires_after(a.wait);
      early_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) feed(run_end::SettledPoll{clock_.now()});
      });
      return;
    case Task::look_settled: return feed(look_settled(a.wait));
    case Task::look_evidence: return feed(look_evidence());
    case Task::arm_evidence_poll: return arm(settle_, a.wait, run_end::SettleTimer{});
    case Task::record_timeout:
      return lab_events_.push_back({clock_.now(),
                                    fmt::format("timeout: the run did not finish within {} ms",
                                                policy_.scenario.timeout.count()),
                                    LabEventKind::timeout});
    default: return perform_end(a.task);
  }
}

void RunDriver::arm(asio::steady_timer& timer, std::chrono::milliseconds wait, run_end::Input input) {
  timer.expires_after(wait);
  timer.async_wait([this, input](const boost::system::error_code& ec) {
    if (!ec) feed(input);
  });
}

run_end::SettledLook RunDriver::look_settled(std::chrono::milliseconds left) {
  const std::size_t activity = interceptor_.events().size() + (capture_ ? capture_->frames_read() : 0);
  const bool settled =
      interceptor_.idle() && lab_actions_.pending() == 0 && why_unsettled(observer_.sockets_now(), left).empty();
  return {settled, activity};
}

run_end::EvidenceLook RunDriver::look_evidence() {
  std::optional<Instant> first;
  for (const PendingEvidence& p : pending_now())
    if (!first || p.due < *first) first = p.due;
  return {first};
}

void RunDriver::perform_end(run_end::Task task) {
  using run_end::Task;
  switch (task) {
    case Task::record_pending: pending_at_end_ = pending_now(); break;  // what could still have come
    case Task::sample_final: observer_.sample_final(); break;  // its last sample: every socket listed
    case Task::read_counters: counters_at_end_ = read_side_counters(lab_); break;
    case Task::mark_run_end:
      end_ = clock_.now();  // segments entering wire after this belong to the teardown
      for (const Side side : {Side::client, Side::server})
        counters_[side] = changes(counters_at_start_[side], counters_at_end_[side]);
      break;
    case Task::cancel_timers:
      settle_.cancel();
      early_.cancel();
      deadline_.cancel();
      break;
    case Task::stop_agents:
      for (const Side side : {Side::client, Side::server}) agents_[side]->stop();
      break;
    case Task::end_processes: end_lab_processes(); break;
    case Task::stop_interceptor:
      if (control_) control_->stop();  // no change after the wire stops being decided
      interceptor_.stop();
      break;
    case Task::stop_capture: if (capture_) capture_->stop(); break;
    case Task::stop_observers:
      observer_.stop();
      if (kernel_) kernel_->stop();
      break;
    default: break;  // not an end task: perform() handles it
  }
}

std::vector<PendingEvidence> RunDriver::pending_now() {
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
  const Instant unknown = end_rules_.deadline + std::chrono::hours(24);
  if (!interceptor_.idle())
    out.push_back({PendingKind::held_segment, std::nullopt, 0, 0, 0, std::nullopt,
                   interceptor_.next_release().value_or(unknown)});
  if (lab_actions_.pending() > 0) out.push_back({PendingKind::lab_action, std::nullopt, 0, 0, 0, std::nullopt, now});
  return out;
}

void RunDriver::on_segment(const WireEvent& ev) {
  for (const LabFiring& f : lab_actions_.on_segment(ev.info)) {
    auto timer = std::make_shared<asio::steady_timer>(io_, f.after);
    // The trigger is copied: the interceptor's event log may grow (and move) before the timer fires.
    timer->async_wait([this, timer, f, trigger = ev.segment, from = ev.info.from](const boost::system::error_code& ec) {
      lab_actions_.done();
      if (ec) return;
      observer_.sample();  // the state just before, in the trace
      run_lab_action(f, trigger, from);
      observer_.sample();
    });
  }
}

void RunDriver::run_lab_action(const LabFiring& f, const Segment& trigger, Side trigger_from) {
  const LabAction& action = policy_.lab[f.action];
  switch (action.action) {
    case LabActionKind::destroy_timewait: {
      const std::size_t n = observer_.destroy_timewait(f.side);
      lab_events_.push_back({clock_.now(), timewait_destroyed_text(action, f.side, n),
                             LabEventKind::timewait_destroyed, f.side, n});
      break;
    }
    case LabActionKind::inject_rst:
      // To the trigger's sender, seemingly from its peer: across the link in the peer's direction.
      interceptor_.send_own(build_reset_to_sender(trigger), injected_rst_note(f.action), OwnSegment::lab_rst,
                            peer_of(trigger_from));
      break;
  }
}

void RunDriver::end_lab_processes() {
  for (const auto& [side, gone] : lab_.end_processes())
    for (const sys::NamespaceProcess& p : gone)
      lab_events_.push_back({clock_.now(),
                             fmt::format("{} (pid {}) was still running in the {} namespace after its command "
                                         "(it daemonized or left its session): ended with the run",
                                         p.command, p.pid,
                                         lab_.loopback() ? std::string("wrapped command's")
                                                         : std::string(side_name(side)) + "'s"),
                             LabEventKind::note});
}

std::vector<WireEvent> RunDriver::merge_wire_events(std::vector<LabEvent>& errors) {
  MergedWire merged = merge_wire(capture_ ? capture_->segments() : std::vector<CapturedSegment>{},
                                 interceptor_.take_events(), lab_.client_addresses(), end_, !lab_.loopback());
  errors = std::move(merged.errors);
  segments_after_end_ = merged.after_end;
  for (auto& e : interceptor_.harness_errors()) errors.push_back(std::move(e));
  // First: a capture that lost frames explains every "never left" error after it.
  if (const auto drops = capture_ ? capture_->drops() : 0; drops > 0)
    errors.insert(errors.begin(), {clock_.now(),
                      fmt::format("harness error: the packet capture lost {} frame{}: the wire is incomplete", drops,
                                  drops == 1 ? "" : "s"),
                      LabEventKind::harness_error, std::nullopt, drops, HarnessCause::capture_lost});
  return std::move(merged.events);
}

Trace RunDriver::merge() {
  Trace trace;
  trace.policy = policy_.name;
  trace.ipv6 = options_.ipv6;
  trace.kernel = kernel_release();
  trace.random_seed = options_.seed;
  if (policy_.link && policy_.link->active()) trace.link = policy_.link;
  trace.sysctls = per_side([this](Side side) { return lab_.sysctls_in_force(side); });
  trace.queue_drops = interceptor_.queue_drops();
  trace.every_segment = !why_every_segment(policy_, options_.capture).empty();
  trace.wall_start = clock_.wall_start();
  if (!lab_.loopback())  // one namespace's count is both sides': not either's
    trace.timewait_overflow = per_side([this](Side side) { return timewait_overflow(lab_.side(side)); });
  trace.counters = counters_;
  trace.sample_interval = std::chrono::milliseconds(2);
  trace.observed_until = clock_.now();  // the observers stopped at the run's end
  trace.run_end = end_;                 // and the agents were stopped after this
  trace.client_addresses = lab_.client_addresses();
  trace.whole_wire = capture_.has_value();
  trace.wire_resolution = std::chrono::microseconds(0);  // kernel timestamps from the packet socket
  std::vector<LabEvent> errors;
  for (auto& e : merge_wire_events(errors)) trace.events.emplace_back(std::move(e));
  for (auto& e : errors) trace.events.emplace_back(std::move(e));
  for (auto& e : interceptor_.window_events()) trace.events.emplace_back(std::move(e));
  if (control_)
    for (const LabEvent& e : control_->events()) trace.events.emplace_back(e);
  for (const SocketEvent& e : observer_.events()) trace.events.emplace_back(e);
  trace.samples = observer_.samples();
  if (lab_.loopback()) trace.samples.server = trace.samples.client;  // one dump showed both sides
  trace.final_sample_lists_all = true;  // SocketObserver::sample_final()
  trace.pending_at_end = pending_at_end_;
  trace.segments_after_end = segments_after_end_;
  trace.jiffy = kernel_jiffy();
  if (kernel_) add_kernel_events(trace);
  for (const auto& e : app_events_) trace.events.emplace_back(e);
  for (const auto& e : lab_events_) trace.events.emplace_back(e);
  stable_sort_by_key(trace.events, [](const TraceEvent& e) { return event_time(e); });
  if (lab_.loopback()) assign_loopback_sides(trace);  // one namespace: each socket's side from its SYN
  attribute_connections(trace);  // each socket (cookie) to the wire connection its numbers name
  label_retransmissions(trace);  // traced: the kernel's retransmissions, not the wire's repeats
  return trace;
}

void RunDriver::add_kernel_events(Trace& trace) {
  kernel_->drain();  // everything the kernel wrote up to now: nothing is left in the ring
  trace.kernel_source = KernelSource::traced;
  for (LabEvent& e : kernel_observer_misses(kernel_->lost(), kernel_->unread(), kernel_->skipped(), clock_.now()))
    lab_events_.push_back(std::move(e));
  // What the kernel did after the run's end is the teardown's (the agents stopped), as on the wire.
  for (TraceEvent e : kernel_->events())
    if (event_time(e) <= *end_) trace.events.push_back(std::move(e));
}

}  // namespace lastack
