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
  const std::size_t connection = per_connection_ ? seg.connection.value : 0;
  for (std::size_t i = 0; i < actions_.size(); ++i) {
    const LabAction& action = actions_[i];
    if (fired_.count({i, connection}) || !selector_matches(action.on, seg)) continue;
    // Before the connection's first FIN nobody is a closer yet: wait for a later trigger.
    const std::optional<Side> side = resolve_side(action.side, seg.first_closer);
    if (!side) continue;
    fired_.insert({i, connection});
    ++pending_;
    out.push_back({i, *side, action.after});
  }
  return out;
}

void LabActionEngine::done() {
  if (pending_ > 0) --pending_;
}

std::string timewait_destroyed_text(const LabAction& action, Side side, std::size_t destroyed) {
  const std::string who = action.side.by_close_order()
                              ? fmt::format("{} ({})", side_ref_name(action.side), side_name(side))
                              : std::string(side_name(side));
  return fmt::format("destroyed TIME_WAIT on {}: {} socket{} (SOCK_DESTROY)", who, destroyed,
                     destroyed == 1 ? "" : "s");
}

std::string injected_rst_note(std::size_t action) {
  return fmt::format("injected by lab action {}: inject-rst", action + 1);
}

}  // namespace lastack
