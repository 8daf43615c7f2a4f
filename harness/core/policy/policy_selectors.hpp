#pragma once
// Reading which segments a policy means: segment role, sending side, connection number.
#include <optional>
#include <string_view>
#include <vector>

#include "lastack/policy.hpp"
#include "harness/core/policy/policy_toml.hpp"

namespace lastack::policy_toml {

/// The names a `side` value can take.
extern const std::vector<std::string_view> side_names;
/// How an inline selector table looks, for error hints.
inline constexpr std::string_view selector_example = "{ segment = \"fin\", from = \"server\" }";

/// "client" / "server" -> Side; nullopt for anything else.
std::optional<Side> side_from_name(std::string_view name);

/// Every name a side can take where the order of closing may name it: client, server,
/// first-closer, second-closer.
extern const std::vector<std::string_view> side_or_closer_names;

/// `from`: "client" or "server"; "any" (or absent) leaves it unset.
std::optional<Side> read_from(const TableReader& t);

/// `key`: client, server, first-closer or second-closer; "any" (or absent) leaves it unset.
std::optional<SideRef> read_side_or_any(const TableReader& t, std::string_view key);

/// `from`: client, server, first-closer or second-closer; "any" (or absent) leaves it unset.
std::optional<SideRef> read_from_or_closer(const TableReader& t);

/// The required side named by `key` ("client" or "server").
Side read_side(const TableReader& t, std::string_view key);

/// The required side named by `key`: client, server, first-closer or second-closer.
SideRef read_side_or_closer(const TableReader& t, std::string_view key);

/// segment / from / connection, from whichever table carries them; `from` may name a closer.
Selector read_selector(const TableReader& t);

/// An inline selector table such as `until = { ... }` or `on = { ... }`.
Selector read_selector_table(const TableReader& parent, std::string_view key);

}  // namespace lastack::policy_toml
