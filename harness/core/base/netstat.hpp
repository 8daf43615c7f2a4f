#pragma once
// /proc/net/netstat and /proc/net/snmp: pairs of lines, "Group: Name1 Name2 ..." then
// "Group: value1 value2 ...", read into the counters of lastack/netstat.hpp.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lastack/netstat.hpp"

namespace lastack {

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
