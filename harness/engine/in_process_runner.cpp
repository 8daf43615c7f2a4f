#include "harness/engine/in_process_runner.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <utility>

#include "lastack/error.hpp"
#include "harness/sys/net/lab_sockets.hpp"
#include "harness/sys/observe/sock_diag.hpp"
#include "harness/sys/proc/stop_signal.hpp"

namespace lastack {

bool LabSide::stopping() const { return stop_.requested(); }
int LabSide::stop_fd() const { return stop_.fd(); }
bool LabSide::wait_for_stop(std::chrono::milliseconds timeout) const { return stop_.wait_for(timeout); }

namespace {

// A socket listens on `port` in the namespace `diag` looks at, in either family (a server on
// the IPv6 wildcard also takes IPv4 connections).
bool listening(sys::SockDiag& diag, std::uint16_t port) {
  for (IpFamily family : {IpFamily::v4, IpFamily::v6})
    for (const sys::SocketSnapshot& s : diag.dump(family, sys::SocketStates::listeners))
      if (s.state == TcpState::LISTEN && s.local_port == port) return true;
  return false;
}

}  // namespace

InProcessRunner::InProcessRunner(asio::io_context& run_io, const RunClock& clock, const sys::NetNamespace& ns,
                                 InProcessConfig config)
    : run_io_(run_io),
      clock_(clock),
      ns_(ns),
      config_(std::move(config)),
      lab_side_(config_.side, config_.server, config_.client_address, user_io_, stop_signal_) {
  if (!config_.on_event) config_.on_event = [](const AppEvent&) {};
}

InProcessRunner::~InProcessRunner() { join_after_stop(); }

std::string InProcessRunner::function_name() const { return fmt::format("{} function", side_name(config_.side)); }

void InProcessRunner::launch() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { body(); });
}

// The user's thread: into the namespace, the function, then how it ended, for the run's thread.
void InProcessRunner::body() {
  Ending ending;
  try {
    const sys::NetnsScope scope(ns_);
    config_.function(lab_side_);
  } catch (const std::exception& e) {
    ending.error = e.what();
  } catch (...) {
    ending.error = "an exception not derived from std::exception";
  }
  ending.at = clock_.now();
  ending.after_stop = stop_signal_.requested();
  {
    const std::lock_guard lock(mutex_);
    ending_ = std::move(ending);
  }
  ended_cv_.notify_all();
  // The runner outlives the run's io_context's last handler: the run destroys its runners only
  // after io.run() returned, and a handler left pending then is destroyed, never run.
  asio::post(run_io_, [this] {
    if (stopped_) return;
    done_ = true;
    report();
    if (on_done_) on_done_();
  });
}

bool InProcessRunner::wait_ended(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return ended_cv_.wait_for(lock, timeout, [this] { return ending_.has_value(); });
}

void InProcessRunner::prepare() {
  if (config_.side != Side::server || thread_.joinable()) return;
  launch();
  sys::SockDiag diag = sys::SockDiag::open_in(ns_);
  // Blocking on purpose: the run must not start the client before the server listens.
  const auto deadline = std::chrono::steady_clock::now() + listen_timeout;
  while (!listening(diag, config_.server.port())) {
    if (wait_ended(listen_poll)) {
      const std::lock_guard lock(mutex_);
      throw HarnessError(fmt::format("the in-process server did not listen on {}: its function {} first",
                                     config_.server.port(),
                                     ending_->error ? "threw \"" + *ending_->error + "\"" : std::string("returned")));
    }
    if (std::chrono::steady_clock::now() >= deadline)
      throw HarnessError(fmt::format("the in-process server did not listen on {} within {} s",
                                     config_.server.port(), listen_timeout.count()));
  }
}

void InProcessRunner::start(std::function<void()> on_done) {
  if (stopped_) return;
  on_done_ = std::move(on_done);
  launch();
}

void InProcessRunner::stop() {
  if (stopped_) return;
  stopped_ = true;
  join_after_stop();
  report();
}

// Ask, then shut its sockets down, then give up on the process: a thread cannot be killed, and
// one left running would use this runner after run_policy returned.
void InProcessRunner::join_after_stop() {
  if (!thread_.joinable()) return;
  stop_signal_.request();
  user_io_.stop();
  if (!wait_ended(stop_grace)) {
    ignored_stop_ = true;
    try {
      shut_down_ = sys::shutdown_tcp_sockets_in(ns_);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "lastack: could not shut down the %s's sockets: %s\n", function_name().c_str(), e.what());
    }
    user_io_.stop();
    if (!wait_ended(shutdown_grace)) {
      std::fprintf(stderr,
                   "lastack: the in-process %s did not return within %lld s of the run's stop request, even "
                   "after its %zu socket(s) in the lab were shut down; a thread cannot be killed, so the process "
                   "ends here\n",
                   function_name().c_str(), static_cast<long long>((stop_grace + shutdown_grace).count()), shut_down_);
      std::fflush(stderr);
      std::abort();
    }
  }
  thread_.join();
}

// Once, on the run's thread, after the function ended (its ending is written before the post
// and before the join, each of which orders it before this read).
void InProcessRunner::report() {
  if (reported_) return;
  std::optional<Ending> ending;
  {
    const std::lock_guard lock(mutex_);
    ending = ending_;
  }
  if (!ending) return;
  reported_ = true;
  AppEvent a{ending->at, config_.side, function_name(), "returned"};
  a.result = StepResult::ok;
  if (ending->after_stop) {
    a.outcome = "returned when the run stopped it";
    a.result = StepResult::aborted;
  }
  if (ignored_stop_) {
    a.outcome = fmt::format("ignored the stop request for {} s; returned after lastack shut down its {} socket{} "
                            "in the lab",
                            stop_grace.count(), shut_down_, shut_down_ == 1 ? "" : "s");
    a.result = StepResult::error;
  }
  if (ending->error) {
    a.outcome = (ignored_stop_ ? a.outcome + ", then threw: " : std::string("threw: ")) + *ending->error;
    a.result = StepResult::error;
  }
  config_.on_event(a);
}

}  // namespace lastack
