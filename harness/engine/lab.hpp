#pragma once
// The lab: three namespaces, client ─veth─ wire ─veth─ server, addressed from 198.18.0.0/15 and
// fd00::/8, offloads off, conntrack off and NFQUEUE rules in wire, sysctls from the policy.
#include <future>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lastack/per_side.hpp"
#include "harness/core/decide/queue_rules.hpp"
#include "lastack/segment.hpp"
#include "harness/sys/proc/namespace_processes.hpp"
#include "harness/sys/net/netns.hpp"
#include "harness/sys/proc/orphan_reaper.hpp"
#include "harness/sys/observe/packet_capture.hpp"

namespace lastack {

/// The lab's fixed addressing plan (docs/design.md: The lab).
struct LabAddresses {
  PerSide<IpAddress> endpoint;  // each side's own address (eth0)
  PerSide<IpAddress> gateway;   // the wire's end of each side's link (c0, s0): the side's default route
  unsigned prefix = 24;
  /// 198.18.1.2 <-> 198.18.1.1 | 198.18.2.1 <-> 198.18.2.2, or fd00:1::2 ... fd00:2::2 (/64).
  static LabAddresses for_family(bool ipv6);
  /// `lastack wrap`'s: every address 127.0.0.1 (or ::1), lo's own.
  static LabAddresses loopback(bool ipv6);
};

/// What a lab is built with.
struct LabConfig {
  bool ipv6 = false;
  // Applied to both endpoints first; a policy's own sysctls override it (pinned_sysctls.hpp).
  bool pin_sysctls = true;
  PerSide<std::map<std::string, std::string>> sysctls;  // the policy's own
  std::map<std::string, std::string> sysctl_origin;  // key -> "file:line", named in errors
  QueueRules queue_rules;  // wire's NFQUEUE rules (compile_queue_plan), loaded without iptables
  std::uint32_t mtu = 1500; // every veth end's MTU
  // Open the wire's packet capture while the rest is built (take_capture): setting up its ring
  // waits out an RCU grace period (5-15 ms measured on a 2-core VM), which then overlaps the
  // lab's own setup.
  bool capture_wire = false;
  // `lastack wrap`: ONE namespace in the client's, the wire's and the server's place; lo up, its
  // MTU pinned to `mtu` (the policy's, 1500 unless it says, as on the veths: not lo's own 65536,
  // so segments are counted as policies written for veths count them), offloads off; no veth.
  bool loopback = false;
};

/// A built lab; everything in it dies with this object (the namespaces are held by fds only).
class Lab {
 public:
  /// Build the topology, set the pinned sysctls and then the policy's (before any socket
  /// exists), disable offloads. A pinned sysctl this kernel lacks is skipped only when the
  /// kernel's hard-coded behaviour equals the pinned value; otherwise EnvironmentError.
  /// Queue rules are applied separately (apply_queue_rules) once the queue is bound.
  /// Throws EnvironmentError (privilege, missing tool, unknown sysctl) or HarnessError.
  explicit Lab(const LabConfig& config);
  Lab(Lab&&) = delete;  // the capture's opener holds `this`
  /// Ends every process still in its namespaces (end_processes), then releases them.
  ~Lab();

  /// Load the wire namespace's NFQUEUE rules (one table replace, no program run).
  void apply_queue_rules();

  const sys::NetNamespace& client() const { return endpoints_.client; }
  const sys::NetNamespace& wire() const { return wire_; }
  const sys::NetNamespace& server() const { return endpoints_.server; }
  const sys::NetNamespace& side(Side s) const { return endpoints_[s]; }
  const LabAddresses& addresses() const { return addresses_; }
  bool ipv6() const { return config_.ipv6; }
  /// One namespace on its loopback (`lastack wrap`): client(), wire() and server() are it.
  bool loopback() const { return config_.loopback; }
  /// The addresses that name the client before a SYN does (FlowTracker): the client
  /// namespace's; none on loopback, where both ends share 127.0.0.1 and only the SYN can tell.
  std::vector<IpAddress> client_addresses() const;

  /// The values in force for every pinned sysctl and every one the policy set; a pinned one this
  /// kernel lacks reads as absent_sysctl_text says.
  std::map<std::string, std::string> sysctls_in_force(Side s) const;

  /// The packet capture of every interface of `wire`, bound on a helper thread while the veths
  /// were made (when no thread could be started, bound here: still before any queue rule or
  /// segment); once only. Rethrows what opening it threw (EnvironmentError
  /// without CAP_NET_RAW); HarnessError when the config did not ask for it or it was taken.
  sys::PacketCapture take_capture();

  /// SIGKILL every process still inside the client's or the server's namespace (however it got
  /// there: a daemon, a new session, a double fork), until none is left; returns them by side.
  std::map<Side, std::vector<sys::NamespaceProcess>> end_processes() const;

 private:
  /// `lastack wrap`'s lab, after its sysctls: lo up, its MTU pinned, offloads off.
  void build_loopback();

  LabConfig config_;
  LabAddresses addresses_;
  PerSide<sys::NetNamespace> endpoints_;  // the client's first: under wrap, the others share it
  sys::NetNamespace wire_;
  std::future<sys::PacketCapture> capture_;  // after wire_: finishes before wire_ is closed
  // Ends what is left in the endpoints' namespaces even when this process is killed.
  std::optional<sys::OrphanReaper> reaper_;
};

}  // namespace lastack
