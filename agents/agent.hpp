#pragma once
// An in-process agent: runs one side's steps on one TCP connection, on an io_context it shares
// with the rest of the lab, and reports each step's outcome as an AppEvent.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agents/agent_runner.hpp"
#include "harness/core/trace/byte_pattern.hpp"
#include "lastack/clock.hpp"
#include "lastack/policy.hpp"
#include "lastack/roles.hpp"
#include "lastack/trace.hpp"
#include "lastack/asio.hpp"

namespace lastack {

/// One listening socket for a server's copies (`connections = N`): each copy accepts on it, and
/// it closes when the last user is done listening.
struct SharedListener {
  explicit SharedListener(asio::io_context& io, std::uint32_t users = 1) : acceptor(io), users(users) {}
  asio::ip::tcp::acceptor acceptor;
  std::uint32_t users;  // agents that still accept on it
};

/// Where and how an agent talks. Only `side`, `steps` and `endpoint` are required: the callbacks
/// default to "run here", "time since the agent was made" and "ignore".
struct AgentConfig {
  Side side = Side::client;
  std::vector<Step> steps;
  asio::ip::tcp::endpoint endpoint;  // server: where to listen; client: where to connect
  asio::ip::address client_address;  // a server's `connect N` goes to this address, port N
  // Runs a callable with the thread inside the agent's network namespace; sockets keep the
  // namespace they are created in.
  std::function<void(const std::function<void()>&)> in_namespace;
  std::function<Instant()> now;                    // the run's clock
  std::function<void(const AppEvent&)> on_event;   // one call per finished step
  // The `exit` step, called right after it is reported "ok": end the process now, sockets still
  // open (`lastack agent` sets it). Unset, `exit` is "unsupported": an in-process agent cannot die alone.
  std::function<void()> exit_process;
  // A server's listener shared with its other copies; unset: the agent listens on its own.
  std::shared_ptr<SharedListener> listener;
  // Bytes per read or write call; each buffer is allocated at its first use.
  std::size_t io_chunk = 64 * 1024;
  // One copy of `connections = N`: its connection's bytes carry the client's port as their
  // connection number (both ends know it), so bytes crossing between two copies' connections
  // are told apart. Unset: the agent's own count of its connections (0, 1, ...).
  bool pattern_by_port = false;
};

/// Runs one side's step list on one TCP connection. Single-threaded on the given io_context:
/// never blocks and never runs the io_context itself. Callbacks must not destroy the Agent.
class Agent final : public AgentRunner {
 public:
  Agent(asio::io_context& io, AgentConfig config);
  ~Agent() override;
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  /// Server with an accept step: open, bind (SO_REUSEADDR) and listen now, inside its namespace,
  /// so a client can connect at once; otherwise nothing. Throws HarnessError when the port cannot be bound.
  void prepare() override;
  /// Run the steps in order (from the io_context, not inside this call); `on_done` is called once
  /// when the last step finished or a failed step ended the list. A second call is ignored.
  void start(std::function<void()> on_done) override;
  /// Cancel whatever is pending (end of run): the pending step is reported as "aborted" now, and
  /// on_done is not called. Sockets stay open until the Agent is destroyed.
  void stop() override;

  /// True once the step list ran to its end or was ended by a failed step (not after stop()).
  bool done() const override { return done_; }
  /// True when a step's outcome was not the expected one ("ok"; "eof" for recv-until-eof).
  bool failed() const { return failed_; }
  /// Bytes written / read by every step so far.
  std::uint64_t bytes_sent() const { return bytes_sent_; }
  std::uint64_t bytes_received() const { return bytes_received_; }
  /// The connection's ports once connect started / accept completed; kept after the socket is
  /// closed, for attributing sock_diag samples (TIME_WAIT outlives the socket).
  std::optional<std::uint16_t> local_port() const override { return local_port_; }
  std::optional<std::uint16_t> remote_port() const { return remote_port_; }

 private:
  void run_next();
  void begin(const Step& step);
  void complete(const boost::system::error_code& ec);
  void unsupported();
  void finish(StepResult result, int err, const std::string& text);
  void report(const Step& step, StepResult result, int err, const std::string& text, std::uint64_t bytes);
  void begin_connect(const Step& step);
  void give_up_connect(const Step& step);
  void begin_accept();
  // Move bytes until this step has sent (read) `want` in all, then `then()`; an error completes the step.
  void send_more(std::uint64_t want, std::function<void()> then);
  void recv_more(std::optional<std::uint64_t> want, std::function<void()> then);
  void exchange_round(const Step& step);
  void begin_connection();
  bool accepts_later() const;
  void done_listening();
  std::uint64_t moved(const Step& step) const;
  void begin_sleep(Millis duration);
  void close_now(bool abort);
  void remember_ports();
  void in_namespace(const std::function<void()>& fn);
  Instant now() const;

  asio::io_context& io_;
  AgentConfig config_;
  std::shared_ptr<SharedListener> listener_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  std::vector<std::uint8_t> read_buffer_, write_buffer_;
  PatternVerifier verifier_;  // what this side reads, against the peer's pattern
  bool corruption_reported_ = false;
  std::function<void()> on_done_;
  // Handlers check this before touching the Agent: they may run after it is destroyed.
  std::shared_ptr<char> alive_ = std::make_shared<char>();

  std::size_t next_ = 0;           // index of the step running now (or next to run)
  std::uint64_t step_sent_ = 0, step_received_ = 0;  // moved by the step running now
  std::uint32_t connections_ = 0;  // connections this agent opened or accepted so far
  std::uint32_t pattern_connection_ = 0;  // the connection number its bytes carry (byte_pattern)
  std::uint64_t stream_sent_ = 0;  // written on the current connection (its pattern offset)
  std::uint16_t bind_port_ = 0;    // `bind N`: the local port of later connects (0: any)
  std::uint64_t connect_attempt_ = 0;  // numbers connect attempts, so a stale handler knows itself
  std::uint64_t abandoned_ = 0;        // the attempt a `connect ... within D` gave up
  bool listening_done_ = false;  // this agent's share of the listener is given back
  bool listened_ = false, started_ = false, pending_ = false, stopped_ = false, done_ = false, failed_ = false;
  std::uint64_t bytes_sent_ = 0, bytes_received_ = 0;
  std::optional<std::uint16_t> local_port_, remote_port_;
};

}  // namespace lastack
