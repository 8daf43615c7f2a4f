// [[expect]] check = "socket-held": side, state (one name or a list), longer-than.
#include "harness/core/policy/policy_expect_sockets.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "harness/core/policy/policy_expect.hpp"
#include "harness/core/policy/policy_selectors.hpp"

namespace lastack::policy_toml {

namespace {

// Every state a socket can be held in: CLOSED is a socket gone, not held.
std::vector<std::string_view> holdable_state_names() {
  std::vector<std::string_view> names;
  for (int s = static_cast<int>(TcpState::ESTABLISHED); s <= static_cast<int>(TcpState::NEW_SYN_RECV); ++s)
    if (static_cast<TcpState>(s) != TcpState::CLOSE) names.push_back(state_name(static_cast<TcpState>(s)));
  return names;
}

TcpState read_held_state(const TableReader& t, const toml::node& value) {
  const std::size_t line = t.value_line(value, "state");
  if (!value.is_string())
    t.problems().at(line, fmt::format("{} must be a state name or an array of them, e.g. \"CLOSE_WAIT\"",
                                      t.written("state")));
  const std::string& name = value.as_string()->get();
  const auto state = state_from_name(name);
  if (state == TcpState::CLOSE)
    t.problems().at(line, fmt::format("{} cannot be \"{}\": a closed socket is gone, not held", t.written("state"), name));
  if (!state)
    t.problems().at(line, fmt::format("unknown state \"{}\" (expected one of: {})", name, joined(holdable_state_names())));
  return *state;
}

std::vector<TcpState> read_held_states(const TableReader& t) {
  const toml::node* value = t.node("state");
  if (value == nullptr) return {TcpState::CLOSE_WAIT};
  if (!value->is_array()) return {read_held_state(t, *value)};
  std::vector<TcpState> states;
  for (const toml::node& element : *value->as_array()) {
    const TcpState s = read_held_state(t, element);
    if (std::find(states.begin(), states.end(), s) != states.end())
      t.problems().at(t.value_line(element, "state"),
                      fmt::format("{} lists \"{}\" twice", t.written("state"), state_name(s)));
    states.push_back(s);
  }
  if (states.empty()) t.fail("state", fmt::format("{} must name at least one state", t.written("state")));
  return states;
}

}  // namespace

SocketHeldExpect read_socket_held(const TableReader& t) {
  SocketHeldExpect e;
  e.line = t.line();
  e.side = read_side_or_any(t, "side");
  e.states = read_held_states(t);
  // "rtt": one round trip, as the run measures it (a state that lasts one round trip, on any path).
  if (const toml::node* v = t.node("longer-than"); v && v->is_string() && v->as_string()->get() == "rtt")
    e.longer_than_rtt = true;
  else
    e.longer_than = t.duration("longer-than");
  return e;
}

}  // namespace lastack::policy_toml
