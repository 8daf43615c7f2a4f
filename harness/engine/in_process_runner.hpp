#pragma once
// One side of an in-process run: the user's function on a thread of its own inside the side's
// namespace, driven by the run like an agent (see in_process.hpp for the user's rules).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "agents/agent_runner.hpp"
#include "lastack/trace.hpp"
#include "lastack/in_process.hpp"
#include "harness/engine/run_clock.hpp"
#include "lastack/asio.hpp"
#include "harness/sys/net/netns.hpp"
#include "harness/sys/proc/stop_signal.hpp"

namespace lastack {

/// What one InProcessRunner runs, and where.
struct InProcessConfig {
  Side side = Side::client;
  std::function<void(const LabSide&)> function;
  asio::ip::tcp::endpoint server;  // where the server listens (the policy's port)
  std::string client_address;
  std::function<void(const AppEvent&)> on_event;  // once, on the run's thread: how the function ended
};

/// Runs the user's function on its own thread; every call but the thread's own is made on the
/// run's io_context thread.
class InProcessRunner final : public AgentRunner {
 public:
  /// How long prepare() waits for the server function to listen.
  static constexpr std::chrono::seconds listen_timeout{5};
  static constexpr std::chrono::milliseconds listen_poll{2};
  /// After the stop request: how long the function has to return before its sockets are shut
  /// down, and then before the process is aborted (a thread cannot be killed).
  static constexpr std::chrono::seconds stop_grace{1};
  static constexpr std::chrono::seconds shutdown_grace{5};

  InProcessRunner(asio::io_context& run_io, const RunClock& clock, const sys::NetNamespace& ns,
                  InProcessConfig config);
  /// Stops and joins the thread if it still runs (as stop(), without reporting).
  ~InProcessRunner() override;
  InProcessRunner(const InProcessRunner&) = delete;
  InProcessRunner& operator=(const InProcessRunner&) = delete;

  /// Server: start the function and block until a socket listens on the port in its namespace;
  /// throws HarnessError when the function ends first or 5 s pass. Client: nothing.
  void prepare() override;
  /// Start the function (client) and watch it; `on_done` once it has returned by itself.
  void start(std::function<void()> on_done) override;
  /// End of run: ask the function to stop, wait for it (escalating as in_process.hpp says),
  /// join its thread and record how it ended.
  void stop() override;
  /// True once the function returned by itself (not after stop()).
  bool done() const override { return done_; }
  /// The user's sockets are the user's business: unknown.
  std::optional<std::uint16_t> local_port() const override { return std::nullopt; }

 private:
  // How the function ended, written by its thread under mutex_.
  struct Ending {
    Instant at{};
    std::optional<std::string> error;  // what() of the exception it threw
    bool after_stop = false;           // it returned after the stop request
  };

  void launch();
  void body();
  bool wait_ended(std::chrono::milliseconds timeout);
  void join_after_stop();
  void report();
  std::string function_name() const;

  asio::io_context& run_io_;
  const RunClock& clock_;
  const sys::NetNamespace& ns_;
  InProcessConfig config_;
  asio::io_context user_io_;
  sys::StopSignal stop_signal_;
  LabSide lab_side_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable ended_cv_;
  std::optional<Ending> ending_;
  std::function<void()> on_done_;
  bool ignored_stop_ = false;  // it had not returned stop_grace after the stop request
  std::size_t shut_down_ = 0;  // sockets shut down then
  bool started_ = false, stopped_ = false, done_ = false, reported_ = false;
};

}  // namespace lastack
