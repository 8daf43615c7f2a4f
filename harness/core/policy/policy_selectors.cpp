// Selectors: which segments a fault, lab action or expectation is about.
#include "harness/core/policy/policy_selectors.hpp"

#include "lastack/roles.hpp"

namespace lastack::policy_toml {

namespace {

const std::vector<std::string_view> from_names = {"client", "server", "any"};
const std::vector<std::string_view> from_or_closer_names = {"client", "server", "first-closer",
                                                            "second-closer", "any"};
const std::vector<std::string_view> selector_keys = {"segment", "from", "connection"};

// "any" (or absent) leaves the role unset: every segment, as with no `segment` at all.
std::optional<Role> read_role(const TableReader& t) {
  std::vector<std::string_view> names = all_role_names();
  names.push_back("any");
  const auto role_or_any = [](std::string_view name) -> std::optional<std::optional<Role>> {
    if (name == "any") return std::optional<Role>{};
    if (auto role = role_from_name(name)) return role;
    return std::nullopt;
  };
  return t.named<std::optional<Role>>("segment", "segment", role_or_any, names).value_or(std::nullopt);
}

}  // namespace

const std::vector<std::string_view> side_names = {"client", "server"};
const std::vector<std::string_view> side_or_closer_names = {"client", "server", "first-closer",
                                                            "second-closer"};

std::optional<Side> side_from_name(std::string_view name) {
  if (name == "client") return Side::client;
  if (name == "server") return Side::server;
  return std::nullopt;
}

namespace {

// The side named by `key` as `lookup` reads it; "any" leaves it unset, as an absent key does.
template <typename T>
std::optional<T> side_or_any(const TableReader& t, std::string_view key, std::optional<T> (*lookup)(std::string_view),
                             const std::vector<std::string_view>& names) {
  const auto any_side = [lookup](std::string_view name) -> std::optional<std::optional<T>> {
    if (name == "any") return std::optional<T>{};
    if (auto side = lookup(name)) return side;
    return std::nullopt;
  };
  return t.named<std::optional<T>>(key, "side", any_side, names).value_or(std::nullopt);
}

}  // namespace

std::optional<Side> read_from(const TableReader& t) { return side_or_any<Side>(t, "from", side_from_name, from_names); }

std::optional<SideRef> read_side_or_any(const TableReader& t, std::string_view key) {
  return side_or_any<SideRef>(t, key, side_ref_from_name, from_or_closer_names);
}

std::optional<SideRef> read_from_or_closer(const TableReader& t) { return read_side_or_any(t, "from"); }

SideRef read_side_or_closer(const TableReader& t, std::string_view key) {
  t.require(key);
  return *t.named<SideRef>(key, "side", side_ref_from_name, side_or_closer_names);
}

Side read_side(const TableReader& t, std::string_view key) {
  t.require(key);
  return *t.named<Side>(key, "side", side_from_name, side_names);
}

Selector read_selector(const TableReader& t) {
  Selector sel;
  sel.segment = read_role(t);
  sel.from = read_from_or_closer(t);
  if (auto connection = t.integer("connection", 1, u32_max))
    sel.connection = ConnectionNumber{static_cast<std::size_t>(*connection)};
  return sel;
}

Selector read_selector_table(const TableReader& parent, std::string_view key) {
  const toml::table* table = parent.table(key, selector_example);
  const TableReader t(*table, fmt::format("{} {}", parent.title(), parent.written(key)),
                      selector_keys, parent.problems());
  return read_selector(t);
}

}  // namespace lastack::policy_toml
