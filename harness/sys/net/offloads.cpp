#include "harness/sys/net/offloads.hpp"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>

#include "lastack/error.hpp"

namespace lastack::sys {

namespace {

/// An ethtool ioctl socket; the ioctl acts on the links of the namespace it was made in.
UniqueFd ethtool_socket(const NetNamespace& ns) {
  UniqueFd fd(in_netns(ns, [] { return ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); }));
  if (!fd.valid()) throw_errno("open an ethtool socket");
  return fd;
}

/// One legacy ethtool get/set command with a single value (ETHTOOL_GTSO, ETHTOOL_SGRO, ...).
std::uint32_t ethtool_value_command(int fd, const std::string& ifname, std::uint32_t command,
                                    std::uint32_t value, const char* what) {
  if (ifname.size() >= IFNAMSIZ) throw HarnessError("interface name too long: " + ifname);
  ethtool_value data{};
  data.cmd = command;
  data.data = value;
  ifreq request{};
  std::memcpy(request.ifr_name, ifname.c_str(), ifname.size() + 1);
  request.ifr_data = reinterpret_cast<char*>(&data);
  if (::ioctl(fd, SIOCETHTOOL, &request) != 0) throw_errno((std::string(what) + " on " + ifname).c_str());
  return data.data;
}

}  // namespace

void disable_offloads(const NetNamespace& ns, const std::string& ifname) {
  const UniqueFd fd = ethtool_socket(ns);
  // The legacy TSO command switches every TSO flavour at once (v4, v6, ECN, mangle-id).
  ethtool_value_command(fd.get(), ifname, ETHTOOL_STSO, 0, "turn TSO off");
  ethtool_value_command(fd.get(), ifname, ETHTOOL_SGSO, 0, "turn GSO off");
  ethtool_value_command(fd.get(), ifname, ETHTOOL_SGRO, 0, "turn GRO off");
}

OffloadState read_offloads(const NetNamespace& ns, const std::string& ifname) {
  const UniqueFd fd = ethtool_socket(ns);
  OffloadState state;
  state.tso = ethtool_value_command(fd.get(), ifname, ETHTOOL_GTSO, 0, "read TSO") != 0;
  state.gso = ethtool_value_command(fd.get(), ifname, ETHTOOL_GGSO, 0, "read GSO") != 0;
  state.gro = ethtool_value_command(fd.get(), ifname, ETHTOOL_GGRO, 0, "read GRO") != 0;
  return state;
}

}  // namespace lastack::sys
