#include "harness/sys/net/net_counters.hpp"
#include "harness/core/base/netstat.hpp"

#include <fstream>
#include <iterator>

namespace lastack::sys {

std::optional<std::string> read_proc_net(const NetNamespace& ns, std::string_view file) {
  const std::string path = "/proc/thread-self/net/" + std::string(file);
  return in_netns(ns, [&path]() -> std::optional<std::string> {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::string text(std::istreambuf_iterator<char>(in), {});
    if (in.bad()) return std::nullopt;
    return text;
  });
}

std::optional<CounterSnapshot> read_net_counters(const NetNamespace& ns) {
  CounterSnapshot all;
  for (std::string_view file : {"netstat", "snmp"}) {
    const auto text = read_proc_net(ns, file);
    const auto counters = text ? parse_counters(*text) : std::nullopt;
    if (!counters) return std::nullopt;
    all.insert(counters->begin(), counters->end());
  }
  if (all.empty()) return std::nullopt;  // readable but empty: nothing was counted here
  return all;
}

}  // namespace lastack::sys
