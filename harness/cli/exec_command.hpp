#pragma once
// `lastack exec`: the user's own server and client commands under a policy's faults.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "lastack/policy.hpp"

namespace lastack {

/// `lastack exec`: the user's own server and client commands under a policy's faults.
struct ExecCommand {
  std::string policy;  // name or file
  std::filesystem::path policy_dir;
  std::string server, client;          // shell command lines, run as /bin/sh -c
  // --port, repeatable: the client starts once all listen. Empty: once any port listens, and
  // sockets on every port listening in the server namespace are observed.
  std::vector<std::uint16_t> ports;
  std::optional<std::string> timeout;  // "30s"; default: the policy's
  std::optional<std::string> link;     // --link latency=50ms,...: a [link] over the policy's
  std::optional<std::string> json, pcap;
  std::optional<std::string> html;     // one page (a directory when the path ends in /)
  std::optional<std::uint64_t> seed;  // --seed: what probabilistic faults draw from
  bool ipv6 = false;
  bool quiet = false;
  bool color = false;
};

/// The policy `cmd` runs, its port and timeout overridden (input errors surface here).
Policy resolve_exec_policy(const ExecCommand& cmd);
/// `lastack exec`: run the two commands in the lab; 0 when the client command exited 0 and
/// every check held, 1 otherwise (one line says which).
int command_exec(const ExecCommand& cmd, const Policy& policy);

}  // namespace lastack
