#pragma once
// Segmentation offloads on lab links: off, so every segment on the wire is one MSS-sized
// TCP segment, as the interceptor and the oracle count them.
#include <string>

#include "harness/sys/net/netns.hpp"

namespace lastack::sys {

/// Which segmentation offloads a link has on.
struct OffloadState {
  bool tso = false;  // every TCP segmentation offload (v4, v6, ECN, mangle-id)
  bool gso = false;
  bool gro = false;
  bool operator==(const OffloadState&) const = default;
};

/// Turn TSO, GSO and GRO off on `ifname` inside `ns`.
void disable_offloads(const NetNamespace& ns, const std::string& ifname);

/// The offloads `ifname` inside `ns` has on now.
OffloadState read_offloads(const NetNamespace& ns, const std::string& ifname);

}  // namespace lastack::sys
