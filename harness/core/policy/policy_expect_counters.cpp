// [[expect]] check = "counter": side, name ("Group.Name"), count or min and/or max.
#include "harness/core/policy/policy_expect_counters.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <string>

#include "harness/core/policy/policy_expect.hpp"
#include "harness/core/policy/policy_selectors.hpp"

namespace lastack::policy_toml {

namespace {

constexpr std::int64_t i64_min = std::numeric_limits<std::int64_t>::min();

bool is_word(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

// The kernel's names are letters and digits, "Group.Name": which names a kernel has is known
// only to it (the judge says when it has no such counter), but the shape is checked here.
std::string read_counter_name(const TableReader& t) {
  t.require("name", "the counter as Group.Name, e.g. name = \"TcpExt.PAWSEstab\"");
  const std::string name = *t.string("name");
  const std::size_t dot = name.find('.');
  if (dot == std::string::npos || !is_word(name.substr(0, dot)) || !is_word(name.substr(dot + 1)))
    t.fail("name", fmt::format("{} = \"{}\" is not a counter name: write Group.Name as /proc/net/netstat and "
                               "/proc/net/snmp spell it, e.g. \"TcpExt.PAWSEstab\" or \"Tcp.OutRsts\"",
                               t.written("name"), name));
  return name;
}

}  // namespace

CounterExpect read_counter(const TableReader& t) {
  CounterExpect e;
  e.line = t.line();
  t.require("side", "whose namespace: side = \"client\" or \"server\"");
  e.side = read_side(t, "side");
  e.name = read_counter_name(t);
  t.require_one_of({"count", "min", "max"});
  // A gauge such as Tcp.CurrEstab can go down: changes are signed.
  e.change = read_count_bound<std::int64_t>(t, i64_min, i64_max);
  return e;
}

}  // namespace lastack::policy_toml
