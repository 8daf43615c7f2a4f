#pragma once
// `connections = N`: N copies of one side's agent on one io_context, driven as one AgentRunner.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "agents/agent.hpp"
#include "agents/agent_runner.hpp"

namespace lastack {

/// N copies of one side's steps, each on its own connection; a server's copies share one listener.
class AgentGroup final : public AgentRunner {
 public:
  /// `copies` >= 1 agents made from `config` (its `listener` is replaced by a shared one).
  AgentGroup(asio::io_context& io, const AgentConfig& config, std::uint32_t copies);

  /// Listening (server) before it returns: the first copy opens the shared listener.
  void prepare() override;
  /// Start every copy; `on_done` once, when the last copy's steps ended.
  void start(std::function<void()> on_done) override;
  /// Stop every copy (each reports its pending step "aborted").
  void stop() override;
  /// True once every copy is done.
  bool done() const override { return done_ == agents_.size(); }
  /// The first copy's local port (each copy has its own).
  std::optional<std::uint16_t> local_port() const override { return agents_.front()->local_port(); }

 private:
  std::vector<std::unique_ptr<Agent>> agents_;
  std::size_t done_ = 0;
};

}  // namespace lastack
