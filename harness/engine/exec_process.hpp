#pragma once
// One side of `lastack exec`: the user's own command, run as `/bin/sh -c CMD` inside the side's
// namespace, with its output relayed line by line ("server| ...") and, with its exit status,
// recorded in the trace (AppEvent::output, up to app_output_limit bytes).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agents/agent_runner.hpp"
#include "lastack/segment.hpp"
#include "lastack/trace.hpp"
#include "lastack/asio.hpp"
#include "harness/sys/proc/child_process.hpp"
#include "harness/sys/net/netns.hpp"

namespace lastack {

/// What one ExecProcess runs, and where.
struct ExecConfig {
  Side side = Side::client;
  std::string command;                 // given to /bin/sh -c
  std::vector<std::string> environment;  // NAME=VALUE, added to lastack's own
  // More NAME=VALUE, computed when the command starts (the client: the ports found listening).
  std::function<std::vector<std::string>()> start_environment;
  // Server: the ports that must all listen before the client starts; empty: any one port.
  std::vector<std::uint16_t> ports;
  // Server: prepare() stores here every port listening in its namespace when it returns (sorted).
  std::shared_ptr<std::vector<std::uint16_t>> listening;
  IpFamily family = IpFamily::v4;
  std::function<Instant()> now;                   // the run's clock
  std::function<void(const AppEvent&)> on_event;  // one event: how the command ended
  std::string prefix;  // each output line's; empty: prefix(side)
};

/// The parent's side of a user command: spawns it in its own process group, relays its output,
/// reaps it. Single-threaded on the given io_context.
class ExecProcess final : public AgentRunner {
 public:
  /// How long prepare() waits for the server command to listen, and how often it looks.
  static constexpr std::chrono::seconds listen_timeout{5};
  static constexpr std::chrono::milliseconds listen_poll{5};
  /// How long a server may listen on loopback alone before prepare() says it cannot be reached
  /// (a server may bind loopback first and its public address next).
  static constexpr std::chrono::seconds loopback_grace{1};
  /// How long stop() waits after SIGTERM before SIGKILL.
  static constexpr std::chrono::seconds term_grace{1};

  ExecProcess(asio::io_context& io, ExecConfig config, const sys::NetNamespace& ns);
  /// Kills (the whole group) and reaps the command if it is still running.
  ~ExecProcess() override;
  ExecProcess(const ExecProcess&) = delete;
  ExecProcess& operator=(const ExecProcess&) = delete;

  /// Server: start the command and block until a socket listens on each of `ports` in its
  /// namespace (no ports: on any port), then store the listening ports in `listening`; throws
  /// HarnessError "server did not listen on PORT within 5 s" (or that it exited first).
  /// Client: nothing.
  void prepare() override;
  /// Start the command (client) and watch it; `on_done` once it has exited by itself.
  void start(std::function<void()> on_done) override;
  /// End of run: SIGTERM the command's group, SIGKILL after term_grace, reap, record how it ended.
  void stop() override;
  /// True once the command exited by itself (not after stop()).
  bool done() const override { return done_; }
  /// The connection's port is the user's business: unknown.
  std::optional<std::uint16_t> local_port() const override { return std::nullopt; }
  /// Its exit code (128 + signal when a signal ended it), once reaped.
  std::optional<int> exit_code() const;

  /// The line prefix of `side`'s output: "server| " / "client| ".
  static std::string prefix(Side side);
  /// How an exit code reads in the trace: "exit 0", "exit 3", "signal 15 (SIGTERM)".
  static std::string outcome_text(int exit_code);

 private:
  void spawn();
  void watch_exit();
  void read_output();
  /// Print every complete line in buffer_ (all of it when `flush`), prefixed, and keep it.
  void relay(bool flush);
  /// Keep one output line for the trace, up to app_output_limit bytes in all.
  void keep(std::string_view line);
  /// Read what the pipe holds now, without waiting (a background child may keep it open).
  void drain();
  void record_exit(int code);
  /// Every port a socket listens on in the namespace, either family, sorted; a port whose only
  /// listeners are on loopback (the client cannot reach it) goes to loopback_only_ instead.
  std::vector<std::uint16_t> listening_ports();
  /// Throws when the ports awaited listen on loopback only, and have for loopback_grace.
  void refuse_loopback_only(const std::vector<std::uint16_t>& found);
  /// True when `found` covers what prepare() waits for.
  bool ready(const std::vector<std::uint16_t>& found) const;
  /// "8000", "8000, 8001" (the ports still missing from `found`), or "any port".
  std::string awaited(const std::vector<std::uint16_t>& found) const;

  asio::io_context& io_;
  ExecConfig config_;
  const sys::NetNamespace& ns_;
  std::optional<sys::ChildProcess> child_;
  asio::posix::stream_descriptor output_, exited_;
  std::vector<char> chunk_;
  std::string buffer_;
  std::vector<std::string> kept_;  // the output lines the trace records (AppEvent::output)
  std::size_t kept_bytes_ = 0;
  bool truncated_ = false;
  std::function<void()> on_done_;
  // Handlers check this before touching the object: they may run after it is destroyed.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
  bool started_ = false, stopped_ = false, done_ = false;
  std::vector<std::uint16_t> loopback_only_;  // listening on 127.0.0.0/8 or ::1 alone, sorted
  std::optional<std::chrono::steady_clock::time_point> loopback_since_;
};

}  // namespace lastack
