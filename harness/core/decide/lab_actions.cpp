// [[lab]] actions fired by segments on the wire: once each (per connection when asked), the
// side resolved at the trigger.
#include "harness/core/decide/lab_actions.hpp"

#include <fmt/format.h>

#include "harness/core/decide/decision.hpp"

namespace lastack {

LabActionEngine::LabActionEngine(std::vector<LabAction> actions, bool per_connection)
    : actions_(std::move(actions)), per_connection_(per_connection) {}

std::vector<LabFiring> LabActionEngine::on_segment(const Classified& seg) {
  std::vector<LabFiring> out;
  const std::size_t connection = per_connection_ ? seg.connection : 0;
  for (std::size_t i = 0; i < actions_.size(); ++i) {
    const LabAction& action = actions_[i];
    if (fired_.count({i, connection}) || !selector_matches(action.on, seg)) continue;
    // Before the connection's first FIN nobody is a closer yet: wait for a later trigger.
    if (action.side_closer && !seg.first_closer) continue;
    const Side side = action.side_closer ? closer_side(*action.side_closer, *seg.first_closer) : action.side;
    fired_.insert({i, connection});
    ++pending_;
    out.push_back({i, side, action.after});
  }
  return out;
}

void LabActionEngine::done() {
  if (pending_ > 0) --pending_;
}

std::string timewait_destroyed_text(const LabAction& action, Side side, std::size_t destroyed) {
  const std::string who = action.side_closer
                              ? fmt::format("{} ({})", close_order_name(*action.side_closer), side_name(side))
                              : std::string(side_name(side));
  return fmt::format("destroyed TIME_WAIT on {}: {} socket{} (SOCK_DESTROY)", who, destroyed,
                     destroyed == 1 ? "" : "s");
}

std::string injected_rst_note(std::size_t action) {
  return fmt::format("injected by lab action {}: inject-rst", action + 1);
}

}  // namespace lastack
