#include "harness/run/lab.hpp"

#include "harness/core/error.hpp"

#include "harness/sys/iptables.hpp"
#include "harness/sys/offloads.hpp"
#include "harness/sys/rtnetlink.hpp"
#include "harness/sys/sysctl.hpp"

namespace lastack {

namespace {
IpAddress address(const char* text) { return *IpAddress::parse(text); }

// Read into the trace so the oracle judges against the kernel's settings, not assumed defaults.
const char* const kReportedSysctls[] = {
    "net.ipv4.tcp_fin_timeout",   "net.ipv4.tcp_max_tw_buckets", "net.ipv4.tcp_syn_retries",
    "net.ipv4.tcp_synack_retries", "net.ipv4.tcp_orphan_retries", "net.ipv4.tcp_retries2",
    "net.ipv4.tcp_early_retrans", "net.ipv4.tcp_timestamps",    "net.ipv4.tcp_rfc1337",
};

// A kernel that lacks or refuses a setting is reported where the policy wrote it.
void apply_sysctls(const sys::NetNamespace& ns, const std::map<std::string, std::string>& values,
                   const std::map<std::string, std::string>& origin) {
  for (const auto& [key, value] : values) {
    try {
      sys::write_sysctl(ns, key, value);
    } catch (const Error& e) {
      const auto where = origin.find(key);
      if (where == origin.end()) throw;
      throw Error(e.code(), where->second + ": " + e.what());
    }
  }
}
}  // namespace

LabAddresses LabAddresses::for_family(bool ipv6) {
  if (ipv6)
    return {address("fd00:1::2"), address("fd00:1::1"), address("fd00:2::1"), address("fd00:2::2"), 64};
  return {address("198.18.1.2"), address("198.18.1.1"), address("198.18.2.1"), address("198.18.2.2"), 24};
}

Lab::Lab(const LabConfig& config)
    : config_(config),
      addresses_(LabAddresses::for_family(config.ipv6)),
      client_(sys::NetNamespace::create()),
      wire_(sys::NetNamespace::create()),
      server_(sys::NetNamespace::create()) {
  // Sysctls first: some (tcp_rto_min_us, for one) are read when a socket is made.
  apply_sysctls(client_, config_.client_sysctls, config_.sysctl_origin);
  apply_sysctls(server_, config_.server_sysctls, config_.sysctl_origin);
  sys::write_sysctl(wire_, config_.ipv6 ? "net.ipv6.conf.all.forwarding" : "net.ipv4.ip_forward", "1");

  auto wire = sys::Rtnetlink::open_in(wire_);
  wire.create_veth("c0", "eth0", client_);
  wire.create_veth("s0", "eth0", server_);
  for (const char* ifname : {"lo", "c0", "s0"}) wire.set_up(ifname);
  auto endpoint_up = [](const sys::NetNamespace& ns) {
    auto rt = sys::Rtnetlink::open_in(ns);
    rt.set_up("lo");
    rt.set_up("eth0");
  };
  endpoint_up(client_);
  endpoint_up(server_);
  // A veth end brought up before its peer gets carrier from deferred work, and drops packets
  // until then: a lost first SYN would cost the run a second.
  wire.wait_until_running("c0");
  wire.wait_until_running("s0");
  wire.add_address("c0", addresses_.wire_client_side, addresses_.prefix);
  wire.add_address("s0", addresses_.wire_server_side, addresses_.prefix);
  sys::disable_offloads(wire_, "c0");
  sys::disable_offloads(wire_, "s0");

  auto endpoint = [&](const sys::NetNamespace& ns, const IpAddress& own, const IpAddress& gateway) {
    auto rt = sys::Rtnetlink::open_in(ns);
    rt.wait_until_running("eth0");
    rt.add_address("eth0", own, addresses_.prefix);
    rt.add_default_route(gateway);
    sys::disable_offloads(ns, "eth0");
  };
  endpoint(client_, addresses_.client, addresses_.wire_client_side);
  endpoint(server_, addresses_.server, addresses_.wire_server_side);
}

void Lab::apply_queue_rules() { sys::apply_iptables(wire_, config_.queue_rules, config_.ipv6); }

std::map<std::string, std::string> Lab::sysctls_in_force(Side s) const {
  const auto& ns = side(s);
  std::map<std::string, std::string> values;
  for (const char* key : kReportedSysctls) values[key] = sys::read_sysctl(ns, key);
  const auto& set = s == Side::client ? config_.client_sysctls : config_.server_sysctls;
  for (const auto& [key, value] : set) values[key] = sys::read_sysctl(ns, key);
  return values;
}

}  // namespace lastack
