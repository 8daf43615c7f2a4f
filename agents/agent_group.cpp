#include "agents/agent_group.hpp"

namespace lastack {

AgentGroup::AgentGroup(asio::io_context& io, const AgentConfig& config, std::uint32_t copies) {
  auto listener = std::make_shared<SharedListener>(io, copies);
  agents_.reserve(copies);
  for (std::uint32_t i = 0; i < copies; ++i) {
    AgentConfig copy = config;
    copy.listener = listener;
    copy.pattern_by_port = copies > 1;  // the copies' streams must differ: see AgentConfig
    agents_.push_back(std::make_unique<Agent>(io, std::move(copy)));
  }
}

void AgentGroup::prepare() {
  for (auto& agent : agents_) agent->prepare();
}

void AgentGroup::start(std::function<void()> on_done) {
  auto shared = std::make_shared<std::function<void()>>(std::move(on_done));
  for (auto& agent : agents_)
    agent->start([this, shared] {
      if (++done_ == agents_.size()) (*shared)();
    });
}

void AgentGroup::stop() {
  for (auto& agent : agents_) agent->stop();
}

}  // namespace lastack
