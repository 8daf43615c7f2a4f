#pragma once
// One side's agent as a `lastack agent` process inside the side's namespace: what a run uses
// when the steps need the process itself to end (`exit`: the kernel closes the socket).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agents/agent.hpp"
#include "agents/agent_runner.hpp"
#include "harness/engine/run_clock.hpp"
#include "lastack/asio.hpp"
#include "harness/sys/proc/child_process.hpp"
#include "harness/sys/net/netns.hpp"

namespace lastack {

/// The parent's side of a `lastack agent` process: starts it, turns its JSON lines into
/// AppEvents on the run's clock, and reaps it. Single-threaded on the given io_context.
class AgentProcess final : public AgentRunner {
 public:
  /// How long prepare() waits for a server process to say it listens.
  static constexpr std::chrono::seconds ready_timeout{5};

  /// `config.side`, `steps`, `endpoint` and `on_event` are used; `in_namespace` and `now` are
  /// not: the process runs in `ns` and stamps its events on CLOCK_MONOTONIC, which `clock`
  /// turns into Instants. `program` is the lastack binary (default: this process's own).
  AgentProcess(asio::io_context& io, AgentConfig config, const sys::NetNamespace& ns, const RunClock& clock,
               std::string program = "/proc/self/exe");
  /// Kills and reaps the process if it is still running.
  ~AgentProcess() override;
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  /// Server: start the process and block until it listens (at most ready_timeout); client:
  /// nothing. Throws HarnessError when the process ends or stays silent instead.
  void prepare() override;
  /// Start the process (client) and read its events; `on_done` once it has exited after its
  /// steps. Throws HarnessError, from the io_context, when it ends any other way (a crash, bad
  /// input: its own message is on stderr). A second call is ignored.
  void start(std::function<void()> on_done) override;
  /// End of run: SIGKILL the process if still running, reap it, keep the events it wrote, and
  /// report the step it was in as "aborted". on_done is not called.
  void stop() override;

  /// True once the process exited after its steps (not after stop()).
  bool done() const override { return done_; }
  /// True when the process said a step's outcome was not the expected one (exit code 1).
  bool failed() const { return failed_; }
  std::optional<std::uint16_t> local_port() const override { return local_port_; }
  std::optional<std::uint16_t> remote_port() const { return remote_port_; }

  /// The `lastack agent` command line for `config`, events on fd 3. argv[0] is "lastack", so
  /// `ps` shows "lastack agent ..." whichever path the binary was started from.
  static std::vector<std::string> command_line(const AgentConfig& config);

 private:
  static constexpr int kEventsFd = 3;

  void spawn();
  void read_more();
  /// Handle every complete line in buffer_; returns true once a {"ready"} line was among them.
  bool take_lines();
  /// Handle one line; true when it was {"ready"}.
  bool take_line(std::string_view line);
  /// Read what is left in the pipe after the process is gone (the write end is closed: no wait).
  void drain();
  void on_exit();
  std::string name() const;

  AgentConfig config_;
  const sys::NetNamespace& ns_;
  const RunClock& clock_;
  std::string program_;
  std::optional<sys::ChildProcess> child_;
  asio::posix::stream_descriptor events_;
  std::vector<char> chunk_;
  std::string buffer_;  // bytes read but not yet a full line
  std::function<void()> on_done_;
  // Handlers check this before touching the object: they may run after it is destroyed.
  std::shared_ptr<char> alive_ = std::make_shared<char>();

  std::size_t next_ = 0;  // index of the first step not yet reported
  bool started_ = false, stopped_ = false, done_ = false, failed_ = false;
  std::optional<std::uint16_t> local_port_, remote_port_;
};

}  // namespace lastack
