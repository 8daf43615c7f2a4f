#pragma once
// One side's agent as the run drives it, wherever its steps run: in this process (Agent) or in
// a `lastack agent` process of its own (AgentProcess), for steps such as `exit`.
#include <cstdint>
#include <functional>
#include <optional>

namespace lastack {

/// The surface a run needs from an agent; see Agent for the exact contract of each call.
class AgentRunner {
 public:
  virtual ~AgentRunner() = default;

  /// Server: be listening when this returns, so a client can connect at once; client: nothing.
  virtual void prepare() = 0;
  /// Run the steps (from the io_context, not inside this call); `on_done` once when they ended.
  virtual void start(std::function<void()> on_done) = 0;
  /// End of run: cancel whatever is pending, report it as "aborted"; on_done is not called.
  virtual void stop() = 0;
  /// True once the step list ran to its end or was ended by a failed step (not after stop()).
  virtual bool done() const = 0;
  /// The connection's local port once known, kept after the socket is gone (for attribution).
  virtual std::optional<std::uint16_t> local_port() const = 0;
};

}  // namespace lastack
