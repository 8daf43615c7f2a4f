#pragma once
// /proc/net/netstat and /proc/net/snmp: pairs of lines, "Group: Name1 Name2 ..." then
// "Group: value1 value2 ...".
#include <cstdint>
#include <optional>
#include <string_view>

namespace lastack {

/// The counter `name` of `group` ("TcpExt", "TCPTimeWaitOverflow") in a netstat file's text;
/// nullopt when the file does not have it.
std::optional<std::uint64_t> netstat_counter(std::string_view text, std::string_view group,
                                             std::string_view name);

}  // namespace lastack
