#pragma once
// Loading the queue and notrack rules into a lab namespace with one iptables-restore.
#include <string>

#include "harness/sys/net/netns.hpp"

namespace lastack::sys {

/// Load `script` (iptables-save format) into `ns` with iptables-legacy-restore (ip6tables-
/// when `ipv6`): the tables it names are replaced. The legacy binaries are preferred because
/// the NFQUEUE target exists in xtables on kernels without nftables' queue statement.
/// Throws EnvironmentError when the binary is missing or refuses the script.
void apply_iptables(const NetNamespace& ns, const std::string& script, bool ipv6);

/// The rules loaded in `ns`, as iptables-legacy-save prints them.
std::string dump_iptables(const NetNamespace& ns, bool ipv6);

}  // namespace lastack::sys
