#include "harness/engine/lab.hpp"

#include <system_error>

#include <fmt/format.h>

#include "lastack/error.hpp"
#include "harness/core/policy/pinned_sysctls.hpp"

#include "harness/sys/net/offloads.hpp"
#include "harness/sys/net/rtnetlink.hpp"
#include "harness/sys/net/sysctl.hpp"
#include "harness/sys/net/xtables.hpp"

namespace lastack {

namespace {
IpAddress address(const char* text) { return *IpAddress::parse(text); }

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

/// The pinned table into `ns`, except what the policy sets itself (it is applied next). A setting
/// this kernel lacks is fine only if the kernel's built-in behaviour is the pinned value: else
/// the outcome would rest on an unpinned mechanism, and the run cannot be trusted (exit 3).
void apply_pinned_sysctls(const sys::NetNamespace& ns, const std::map<std::string, std::string>& policy_own) {
  std::vector<std::pair<std::string, std::string>> values;
  for (const PinnedSysctl& pin : pinned_sysctls())
    if (policy_own.count(std::string(pin.name)) == 0) values.emplace_back(pin.name, pin.value);
  for (const std::string& name : sys::write_existing_sysctls(ns, values)) {  // entering ns once
    const PinnedSysctl& pin = *find_pinned_sysctl(name);
    if (!absent_is_pinned_value(pin))
      throw EnvironmentError(fmt::format(
          "sysctl {} does not exist on this kernel; lastack pins it to {} ({}), and without it the "
          "outcome would depend on this kernel's own behaviour",
          name, pin.value, pin.why));
    // sysctls_in_force records it as absent
  }
}
}  // namespace

LabAddresses LabAddresses::loopback(bool ipv6) {
  const IpAddress lo = address(ipv6 ? "::1" : "127.0.0.1");
  return {{lo, lo}, {lo, lo}, ipv6 ? 128u : 8u};
}

LabAddresses LabAddresses::for_family(bool ipv6) {
  if (ipv6)
    return {{address("fd00:1::2"), address("fd00:2::2")}, {address("fd00:1::1"), address("fd00:2::1")}, 64};
  return {{address("198.18.1.2"), address("198.18.2.2")}, {address("198.18.1.1"), address("198.18.2.1")}, 24};
}

namespace {
// The client's namespace: a new one, which under `lastack wrap` is the lab's only one.
sys::NetNamespace make_first() { return sys::NetNamespace::create(); }
// The wire's or the server's: a new one, or (wrap) a second handle on the first.
sys::NetNamespace make_next(const LabConfig& config, const sys::NetNamespace& first) {
  return config.loopback ? first.share() : sys::NetNamespace::create();
}
}  // namespace

Lab::Lab(const LabConfig& config)
    : config_(config),
      addresses_(config.loopback ? LabAddresses::loopback(config.ipv6) : LabAddresses::for_family(config.ipv6)),
      endpoints_{make_first(), make_next(config, endpoints_.client)},
      wire_(make_next(config, endpoints_.client)) {
  reaper_.emplace(config.loopback ? std::vector<const sys::NetNamespace*>{&endpoints_.client}
                                  : std::vector<const sys::NetNamespace*>{&endpoints_.client, &endpoints_.server});
  if (config_.capture_wire) {
    const auto open = [this] { return sys::PacketCapture::open_in(wire_); };
    try {
      capture_ = std::async(std::launch::async, open);
    } catch (const std::system_error&) {
      // No thread to be had: open it in take_capture, still before any queue rule or segment.
      capture_ = std::async(std::launch::deferred, open);
    }
  }
  // Sysctls first: some (tcp_rto_min_us, for one) are read when a socket is made. The pinned
  // table, then the policy's own settings over it.
  // (Both pinned tables before either policy's own: under wrap both sides are one namespace.)
  for (const Side side : {Side::client, Side::server})
    if (config_.pin_sysctls) apply_pinned_sysctls(endpoints_[side], config_.sysctls[side]);
  for (const Side side : {Side::client, Side::server})
    apply_sysctls(endpoints_[side], config_.sysctls[side], config_.sysctl_origin);
  if (config_.loopback) {
    build_loopback();
    return;
  }
  sys::write_sysctl(wire_, config_.ipv6 ? "net.ipv6.conf.all.forwarding" : "net.ipv4.ip_forward", "1");

  // Each side's link: a veth from the wire's end (c0, s0) to the side's eth0, its gateway on the wire's end.
  const PerSide<const char*> veth{"c0", "s0"};
  auto wire = sys::Rtnetlink::open_in(wire_);
  for (const Side side : {Side::client, Side::server}) wire.create_veth(veth[side], "eth0", endpoints_[side], config_.mtu);
  for (const char* ifname : {"lo", "c0", "s0"}) wire.set_up(ifname);
  for (const Side side : {Side::client, Side::server}) {
    auto rt = sys::Rtnetlink::open_in(endpoints_[side]);
    rt.set_up("lo");
    rt.set_up("eth0");
  }
  // A veth end brought up before its peer gets carrier from deferred work, and drops packets
  // until then: a lost first SYN would cost the run a second.
  for (const Side side : {Side::client, Side::server}) wire.wait_until_running(veth[side]);
  for (const Side side : {Side::client, Side::server}) {
    wire.add_address(veth[side], addresses_.gateway[side], addresses_.prefix);
    sys::disable_offloads(wire_, veth[side]);
  }
  for (const Side side : {Side::client, Side::server}) {
    const sys::NetNamespace& ns = endpoints_[side];
    auto rt = sys::Rtnetlink::open_in(ns);
    rt.wait_until_running("eth0");
    rt.add_address("eth0", addresses_.endpoint[side], addresses_.prefix);
    rt.add_default_route(addresses_.gateway[side]);
    sys::disable_offloads(ns, "eth0");
  }
}

void Lab::build_loopback() {
  // lo alone: its MTU pinned (65536 by its driver; the policy's, 1500 by default, as on the
  // veths), and no TSO/GSO, so each queued segment is one segment the sender's TCP built.
  auto rt = sys::Rtnetlink::open_in(endpoints_.client);
  rt.set_mtu("lo", config_.mtu);
  rt.set_up("lo");
  rt.wait_until_running("lo");
  sys::disable_offloads(endpoints_.client, "lo");
}

std::vector<IpAddress> Lab::client_addresses() const {
  if (config_.loopback) return {};
  return {addresses_.endpoint.client};
}

Lab::~Lab() {
  try {
    end_processes();
  } catch (...) {  // /proc unreadable: the namespaces still close; PR_SET_PDEATHSIG ends our children
  }
}

std::map<Side, std::vector<sys::NamespaceProcess>> Lab::end_processes() const {
  std::map<Side, std::vector<sys::NamespaceProcess>> ended;
  // One namespace under `lastack wrap`: what is left in it is the command's (the client's).
  for (const Side s : {Side::client, Side::server})
    if (s == Side::client || !config_.loopback)
      if (auto gone = sys::end_processes_in(side(s)); !gone.empty()) ended[s] = std::move(gone);
  return ended;
}

sys::PacketCapture Lab::take_capture() {
  if (!capture_.valid()) throw HarnessError("lab: no wire capture to take (not asked for, or taken)");
  return capture_.get();
}

void Lab::apply_queue_rules() { sys::load_queue_rules(wire_, config_.queue_rules); }

std::map<std::string, std::string> Lab::sysctls_in_force(Side s) const {
  const auto& ns = side(s);
  std::map<std::string, std::string> values;
  const auto& set = config_.sysctls[s];
  for (const auto& [key, value] : set) values[key] = sys::read_sysctl(ns, key);
  std::vector<std::string> pinned;
  for (const PinnedSysctl& pin : pinned_sysctls())
    if (values.count(std::string(pin.name)) == 0) pinned.emplace_back(pin.name);
  const auto read = sys::read_sysctls(ns, pinned);  // entering ns once
  for (std::size_t i = 0; i < pinned.size(); ++i)
    values[pinned[i]] = read[i] ? *read[i] : absent_sysctl_text(*find_pinned_sysctl(pinned[i]));
  return values;
}

}  // namespace lastack
