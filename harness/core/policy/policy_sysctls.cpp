// [sysctl.*]: net.* settings for one namespace or both, each remembered with its policy line.
#include "harness/core/policy/policy_sysctls.hpp"

#include <algorithm>
#include <map>

#include "harness/core/policy/policy_selectors.hpp"
#include "harness/core/policy/settable_sysctls.hpp"

namespace lastack::policy_toml {

namespace {

bool is_setting_name(std::string_view key) {
  if (key.empty() || key.back() == '.') return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

struct SysctlSetting {
  std::string value;
  std::size_t line = 0;
};
using SysctlSettings = std::map<std::string, SysctlSetting>;

/// Collect one [sysctl.X] table, flattening unquoted dotted keys (net.ipv4.x = 1).
void collect_sysctls(const toml::table& table, const std::string& prefix, const std::string& where,
                     SysctlSettings& out, const Problems& problems) {
  for (const auto& [key, value] : in_file_order(table)) {
    const std::string name = prefix.empty() ? std::string(key->str()) : prefix + "." + std::string(key->str());
    const std::size_t line = line_of(*key, line_of(table, 1));
    if (const toml::table* nested = value->as_table()) {
      collect_sysctls(*nested, name, where, out, problems);
      continue;
    }
    if (name.rfind("net.", 0) != 0)
      problems.at(line, fmt::format("sysctl \"{}\" is not per-namespace: only net.* keys can be set", name));
    if (name.find('/') != std::string::npos || name.find("..") != std::string::npos)
      problems.at(line, fmt::format("sysctl \"{}\" must not contain \"/\" or \"..\"", name));
    if (!is_setting_name(name))
      problems.at(line, fmt::format("sysctl \"{}\" is not a setting name (letters, digits, '_' and '-' "
                                    "between dots)", name));
    else if (name.rfind("net.", 0) == 0 && !find_settable_sysctl(name))
      problems.at(line, fmt::format("sysctl \"{}\" is not one lastack's checks account for: a policy may set "
                                    "only those docs/design.md lists under \"Settable sysctls\"",
                                    name));
    std::string setting;
    if (value->is_integer()) {
      setting = std::to_string(value->as_integer()->get());
    } else if (value->is_string()) {
      setting = value->as_string()->get();
      if (setting.empty()) problems.at(line, fmt::format("sysctl \"{}\" is set to an empty string", name));
      if (!is_one_line(setting)) problems.at(line, fmt::format("sysctl \"{}\" value must be one line", name));
    } else {
      problems.at(line, fmt::format("sysctl \"{}\" must be set to an integer or a string", name));
    }
    if (!out.emplace(name, SysctlSetting{setting, line}).second)
      problems.at(line, fmt::format("sysctl \"{}\" is set twice in {}", name, where));
  }
}

}  // namespace

void read_sysctls(const TableReader& root, Scenario& scenario, const Problems& problems) {
  const toml::table* sysctl =
      root.table("sysctl", "[sysctl.client] \"net.ipv4.tcp_fin_timeout\" = 5");
  if (sysctl == nullptr) return;
  const TableReader t(*sysctl, "[sysctl]", {"client", "server", "both"}, problems);
  const auto read = [&](std::string_view key) {
    SysctlSettings settings;
    const toml::table* table = t.table(key, fmt::format("[sysctl.{}] \"net.ipv4.tcp_fin_timeout\" = 5", key));
    if (table != nullptr) collect_sysctls(*table, "", fmt::format("[sysctl.{}]", key), settings, problems);
    return settings;
  };
  const SysctlSettings client = read("client"), server = read("server"), both = read("both");
  for (const auto& settings : {client, server, both})
    for (const auto& [name, setting] : settings) scenario.sysctl_lines.emplace(name, setting.line);
  for (const auto& [name, setting] : client) scenario.sysctls.client.emplace(name, setting.value);
  for (const auto& [name, setting] : server) scenario.sysctls.server.emplace(name, setting.value);
  // A setting in [sysctl.both] may not also be set per side: which one wins would be a guess.
  for (const auto& [name, setting] : both) {
    for (Side side : {Side::client, Side::server}) {
      auto& own = scenario.sysctls[side];
      if (!own.emplace(name, setting.value).second)
        problems.at(setting.line, fmt::format("sysctl \"{}\" is set in both [sysctl.both] and "
                                              "[sysctl.{}]", name, side_name(side)));
    }
  }
}

}  // namespace lastack::policy_toml
