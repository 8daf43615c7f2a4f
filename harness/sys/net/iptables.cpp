#include "harness/sys/net/iptables.hpp"

#include <vector>

#include "lastack/error.hpp"
#include "harness/sys/proc/process.hpp"

namespace lastack::sys {

namespace {

/// The legacy binary if installed, else the plain one; EnvironmentError naming the first.
std::string find_iptables_tool(bool ipv6, const std::string& action) {
  const std::string family = ipv6 ? "ip6tables" : "iptables";
  const std::string legacy = family + "-legacy-" + action;
  if (auto program = find_program({legacy, family + "-" + action})) return *program;
  throw EnvironmentError(legacy + " not found: install iptables (scripts/install-deps)");
}

std::string first_line(const std::string& text) {
  const std::string line = text.substr(0, text.find('\n'));
  return line.empty() ? "(no output)" : line;
}

std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

}  // namespace

void apply_iptables(const NetNamespace& ns, const std::string& script, bool ipv6) {
  const std::string program = find_iptables_tool(ipv6, "restore");
  // -w waits for the xtables lock instead of failing when another run holds it.
  ProcessResult result = run_in_netns(ns, {program, "-w"}, script);
  const bool wait_unsupported =
      result.exit_code != 0 && (result.output.find("unrecognized option") != std::string::npos ||
                                result.output.find("invalid option") != std::string::npos);
  if (wait_unsupported) result = run_in_netns(ns, {program}, script);
  if (result.exit_code != 0)
    throw EnvironmentError(base_name(program) + " failed: " + first_line(result.output));
}

std::string dump_iptables(const NetNamespace& ns, bool ipv6) {
  const std::string program = find_iptables_tool(ipv6, "save");
  const ProcessResult result = run_in_netns(ns, {program}, "");
  if (result.exit_code != 0)
    throw EnvironmentError(base_name(program) + " failed: " + first_line(result.output));
  return result.output;
}

}  // namespace lastack::sys
