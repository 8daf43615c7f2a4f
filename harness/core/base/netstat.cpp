#include "harness/core/base/netstat.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <vector>

namespace lastack {

namespace {
std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::string_view next_line(std::string_view& text) {
  const std::size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}

// A value as the kernel prints it: unsigned, or signed for the few that can be -1 (Tcp.MaxConn).
std::optional<std::uint64_t> counter_value(std::string_view word) {
  const bool negative = !word.empty() && word.front() == '-';
  if (negative) word.remove_prefix(1);
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
  if (word.empty() || ec != std::errc() || p != word.data() + word.size()) return std::nullopt;
  return negative ? 0 - v : v;  // modulo 2^64, as the kernel's own arithmetic
}

bool is_group(std::string_view word) { return word.size() > 1 && word.back() == ':'; }
}  // namespace

std::optional<std::uint64_t> netstat_counter(std::string_view text, std::string_view group,
                                             std::string_view name) {
  while (!text.empty()) {
    const std::string_view header = next_line(text);
    const auto names = words(header);
    if (names.empty() || names[0].size() != group.size() + 1 || names[0].substr(0, group.size()) != group ||
        names[0].back() != ':')
      continue;
    const auto values = words(next_line(text));
    for (std::size_t i = 1; i < names.size() && i < values.size(); ++i) {
      if (names[i] != name) continue;
      std::uint64_t v = 0;
      const auto [p, ec] = std::from_chars(values[i].data(), values[i].data() + values[i].size(), v);
      if (ec != std::errc() || p != values[i].data() + values[i].size()) return std::nullopt;
      return v;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<CounterSnapshot> parse_counters(std::string_view text) {
  CounterSnapshot out;
  while (!text.empty()) {
    const auto names = words(next_line(text));
    if (names.empty()) continue;  // a trailing empty line
    if (text.empty()) return std::nullopt;  // a header without its values
    const auto values = words(next_line(text));
    if (!is_group(names[0]) || values.empty() || values[0] != names[0] || values.size() != names.size())
      return std::nullopt;
    const std::string_view group = names[0].substr(0, names[0].size() - 1);
    for (std::size_t i = 1; i < names.size(); ++i) {
      const auto v = counter_value(values[i]);
      if (!v) return std::nullopt;
      out[fmt::format("{}.{}", group, names[i])] = *v;
    }
  }
  return out;
}

CounterDeltas counter_deltas(const CounterSnapshot& start, const CounterSnapshot& end) {
  CounterDeltas out;
  for (const auto& [name, value] : end) {
    const auto it = start.find(name);
    const std::uint64_t before = it == start.end() ? 0 : it->second;
    out[name] = static_cast<std::int64_t>(value - before);  // a gauge (Tcp.CurrEstab) can go down
  }
  return out;
}

std::string_view counter_file(std::string_view group) {
  constexpr std::array<std::string_view, 6> snmp = {"Ip", "Icmp", "IcmpMsg", "Tcp", "Udp", "UdpLite"};
  for (std::string_view g : snmp)
    if (g == group) return "/proc/net/snmp";
  return "/proc/net/netstat";
}

std::string_view counter_group(std::string_view name) { return name.substr(0, name.find('.')); }

bool tcp_counter(std::string_view name) {
  const std::string_view group = counter_group(name);
  return group.size() < name.size() && (group == "Tcp" || group == "TcpExt");
}

namespace {
// True for the counters every connection that moves data moves: reports leave them out.
bool routine_counter(std::string_view name) {
  // Counters every connection that moves data moves: the wire shows these already.
  constexpr std::array<std::string_view, 10> routine = {
      "Tcp.InSegs",         "Tcp.OutSegs",          "TcpExt.TCPPureAcks",     "TcpExt.TCPHPAcks",
      "TcpExt.TCPHPHits",   "TcpExt.TCPDelivered",  "TcpExt.TCPOrigDataSent", "TcpExt.TCPRcvCoalesce",
      "TcpExt.TCPAutoCorking", "TcpExt.TCPBacklogCoalesce"};
  return std::find(routine.begin(), routine.end(), name) != routine.end();
}
}  // namespace

// Routine counters (above) are left out: the line says what happened, not how much traffic.
std::string tcp_counter_text(const CounterDeltas& deltas) {
  std::string out;
  for (const auto& [name, delta] : deltas) {
    if (delta == 0 || !tcp_counter(name) || routine_counter(name)) continue;
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {:+}", name, delta);
  }
  return out;
}

}  // namespace lastack
