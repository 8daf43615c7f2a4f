#pragma once
// A namespace's TCP/IP counters (/proc/net/netstat and /proc/net/snmp), named "Group.Name"
// ("TcpExt.PAWSEstab", "Tcp.OutRsts").
#include <cstdint>
#include <map>
#include <string>

namespace lastack {

/// Every counter of one namespace at one moment, by "Group.Name", as the kernel printed it
/// (modulo 2^64: Tcp.MaxConn prints -1).
using CounterSnapshot = std::map<std::string, std::uint64_t>;

/// Each counter's change over a run, by "Group.Name"; unchanged ones are kept (as 0), so a
/// name that is not here is one that kernel does not count.
using CounterDeltas = std::map<std::string, std::int64_t>;

}  // namespace lastack
