#pragma once
// Per-namespace sysctls: net.* entries belong to the namespace the file is opened in.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/sys/net/netns.hpp"

namespace lastack::sys {

/// Set `key` (dotted, e.g. "net.ipv4.tcp_fin_timeout") to `value` inside `ns`.
/// Throws EnvironmentError when the key does not exist on this kernel or may not be written,
/// InputError (no location: the caller adds it) when the key is malformed or the value refused.
void write_sysctl(const NetNamespace& ns, const std::string& key, const std::string& value);

/// True when this kernel has `key` in `ns` (its file exists under /proc/sys there).
/// Throws InputError when the key is malformed.
bool sysctl_exists(const NetNamespace& ns, const std::string& key);

/// The value of `key` inside `ns`, without its trailing newline. Errors as write_sysctl.
std::string read_sysctl(const NetNamespace& ns, const std::string& key);

/// The values of `keys` inside `ns`, entering it once: nullopt for a key this kernel lacks.
/// Other errors as read_sysctl.
std::vector<std::optional<std::string>> read_sysctls(const NetNamespace& ns, const std::vector<std::string>& keys);

/// Write each (key, value) inside `ns`, entering it once; a key this kernel lacks is skipped and
/// returned (in order). Other errors as write_sysctl.
std::vector<std::string> write_existing_sysctls(const NetNamespace& ns,
                                                const std::vector<std::pair<std::string, std::string>>& values);

}  // namespace lastack::sys
