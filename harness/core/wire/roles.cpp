#include "lastack/roles.hpp"

#include <array>

namespace lastack {

namespace {

// Indexed by Role's value: the policy spelling.
constexpr std::array<std::string_view, role_count> role_names = {
    "syn",  "syn-ack",    "handshake-ack", "data",      "ack", "fin",
    "first-fin", "second-fin", "first-fin-ack", "final-ack", "rst", "retransmission",
};
static_assert(static_cast<std::size_t>(Role::retransmission) + 1 == role_count,
              "role_names must list every Role");

}  // namespace

std::string_view side_name(Side side) { return side == Side::client ? "client" : "server"; }

std::string_view role_name(Role role) {
  const auto i = static_cast<std::size_t>(role);
  return i < role_count ? role_names[i] : "unknown-role";
}

std::optional<Role> role_from_name(std::string_view name) {
  for (std::size_t i = 0; i < role_count; ++i)
    if (role_names[i] == name) return static_cast<Role>(i);
  return std::nullopt;
}

std::vector<std::string_view> all_role_names() { return {role_names.begin(), role_names.end()}; }

std::vector<Role> RoleSet::list() const {
  std::vector<Role> out;
  for (std::size_t i = 0; i < role_count; ++i)
    if (has(static_cast<Role>(i))) out.push_back(static_cast<Role>(i));
  return out;
}

std::string RoleSet::str() const {
  std::string out;
  for (Role r : list()) {
    if (!out.empty()) out += ',';
    out += role_name(r);
  }
  return out;
}

}  // namespace lastack
