#pragma once
// `lastack wrap`: an unmodified command (a test suite that starts its own server on 127.0.0.1)
// in one lab namespace whose loopback carries the policy's faults, judged as `lastack exec` is.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "lastack/policy.hpp"

namespace lastack {

/// `lastack wrap`'s options.
struct WrapCommand {
  std::string policy;  // name or file
  std::filesystem::path policy_dir;
  std::vector<std::string> command;    // after `--`: run as is (execvp through /bin/sh's exec)
  std::optional<std::uint16_t> port;   // --port: only connections to or from it; none: every one
  std::optional<std::string> timeout;  // "30s"; default: the policy's
  std::optional<std::string> json, pcap, html;
  std::optional<std::uint64_t> seed;
  bool control = false;  // --control: a control socket, its path in LASTACK_CONTROL
  std::optional<std::string> link;     // --link latency=50ms,...: a [link] over the policy's
  bool ipv6 = false;
  bool quiet = false;
  bool color = false;
};

/// What `lastack wrap` exits with when lastack itself has the last word (the command's own
/// status otherwise): apart from any status a test runner uses (pytest: 0-5, signals: 128+).
enum class WrapExit : int {
  check_failed = 111,  // a verdict failed (exec's 1)
  harness = 114,       // the lab misbehaved: the run proves nothing (exec's 4)
  inconclusive = 115,  // nothing failed, something could not be checked (exec's 5)
};

/// The policy `cmd` runs under: refused with one line when one namespace cannot carry it (a
/// sysctl set differently per side, a duplicate, the link's duplicate, a lab action), `--link`
/// laid over its own [link]. Throws InputError.
Policy resolve_wrap_policy(const WrapCommand& cmd);
/// `lastack wrap`: the command's exit status when every verdict holds; otherwise WrapExit.
int command_wrap(const WrapCommand& cmd, const Policy& policy);
/// The exit code for a run whose lastack code is `lastack_code` (0, 1, 4, 5: run_outcome's) and
/// whose command exited with `command_status` (nullopt: it never ended).
int wrap_exit_code(int lastack_code, std::optional<int> command_status);
/// `argv` as one /bin/sh command line that runs it unchanged: `exec 'a' 'b c' 'it'\''s'`.
std::string shell_command_line(const std::vector<std::string>& argv);

}  // namespace lastack
