#pragma once
// `lastack exec`: the user's own server and client commands under a policy's faults.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <string_view>

#include "lastack/per_side.hpp"
#include "lastack/policy.hpp"
#include "lastack/run.hpp"
#include "lastack/oracle.hpp"

namespace lastack {

/// `lastack exec`: the user's own server and client commands under a policy's faults.
struct ExecCommand {
  std::string policy;  // name or file
  std::filesystem::path policy_dir;
  PerSide<std::string> commands;       // each side's shell command line, run as /bin/sh -c
  // --port, repeatable: the client starts once all listen. Empty: once any port listens, and
  // sockets on every port listening in the server namespace are observed.
  std::vector<std::uint16_t> ports;
  std::optional<std::string> timeout;  // "30s"; default: the policy's
  std::optional<std::string> link;     // --link latency=50ms,...: a [link] over the policy's
  std::optional<std::string> json, pcap;
  std::optional<std::string> html;     // one page (a directory when the path ends in /)
  std::optional<std::uint64_t> seed;  // --seed: what probabilistic faults draw from
  bool control = false;  // --control: a control socket, its path in LASTACK_CONTROL for both commands
  bool ipv6 = false;
  bool quiet = false;
  bool color = false;
};

/// What a run of the user's own commands writes besides its text (exec's and wrap's options).
struct CommandRunOutputs {
  std::optional<std::string> json, pcap, html;
  bool quiet = false;
  bool color = false;
};

/// Print a finished run of `lastack VERB` ("exec", "wrap"): the header, the ladder (unless
/// quiet), the verdict table, --json/--pcap/--html, and the result line ("PASS exec under
/// drop-syn ..."), `client_exit` phrasing how the client command ended when it failed. Returns
/// run_outcome's exit code for the verdict (0, 1, 5; 4 on a harness error).
int report_command_run(std::string_view verb, const CommandRunOutputs& outputs, const Policy& policy,
                       const RunResult& result, const CheckResult& client_exit);

/// The policy `cmd` runs, its port and timeout overridden (input errors surface here).
Policy resolve_exec_policy(const ExecCommand& cmd);
/// `lastack exec`: run the two commands in the lab; 0 when the client command exited 0 and
/// every check held, 1 otherwise (one line says which).
int command_exec(const ExecCommand& cmd, const Policy& policy);

}  // namespace lastack
