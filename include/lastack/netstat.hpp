#pragma once
// /proc/net/netstat and /proc/net/snmp: pairs of lines, "Group: Name1 Name2 ..." then
// "Group: value1 value2 ...". A counter is named "Group.Name" ("TcpExt.PAWSEstab", "Tcp.OutRsts").
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace lastack {

/// Every counter of one namespace at one moment, by "Group.Name", as the kernel printed it
/// (modulo 2^64: Tcp.MaxConn prints -1).
using CounterSnapshot = std::map<std::string, std::uint64_t>;

/// Each counter's change over a run, by "Group.Name"; unchanged ones are kept (as 0), so a
/// name that is not here is one that kernel does not count.
using CounterDeltas = std::map<std::string, std::int64_t>;

/// The counter `name` of `group` ("TcpExt", "TCPTimeWaitOverflow") in a netstat file's text;
/// nullopt when the file does not have it.
std::optional<std::uint64_t> netstat_counter(std::string_view text, std::string_view group,
                                             std::string_view name);

/// Every counter of a /proc/net/netstat or /proc/net/snmp text; nullopt when the text is not
/// pairs of "Group:" lines with one integer per name (a group may appear with no names).
std::optional<CounterSnapshot> parse_counters(std::string_view text);

/// `end` minus `start` for every counter of `end`; one `start` lacks counts from 0 (the kernel
/// adds IcmpMsg names on first use).
CounterDeltas counter_deltas(const CounterSnapshot& start, const CounterSnapshot& end);

/// The file a counter group lives in: "/proc/net/snmp" for Ip, Icmp, IcmpMsg, Tcp, Udp and
/// UdpLite, "/proc/net/netstat" for the rest (TcpExt, IpExt, MPTcpExt).
std::string_view counter_file(std::string_view group);

/// "TcpExt" of "TcpExt.PAWSEstab"; the whole name when it has no dot.
std::string_view counter_group(std::string_view name);

/// True for a TCP counter reports list: the groups Tcp and TcpExt.
bool tcp_counter(std::string_view name);

/// The nonzero TCP counters (tcp_counter) of `deltas`: "Tcp.OutRsts +1, TcpExt.PAWSEstab +3";
/// empty when none changed.
std::string tcp_counter_text(const CounterDeltas& deltas);

}  // namespace lastack
