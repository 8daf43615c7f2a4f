#pragma once
// Sends hand-made or copied IP packets from inside a namespace: how the interceptor
// duplicates a segment (or injects one) on the wire.
#include <cstdint>
#include <span>
#include <vector>

#include "harness/sys/proc/fd.hpp"
#include "harness/sys/net/netns.hpp"

namespace lastack::sys {

/// Raw IPv4 and IPv6 sockets (header included) created in one namespace; move-only.
/// Packets leave through that namespace's OUTPUT path, so FORWARD queue rules never see them.
class RawInjector {
 public:
  /// Open both raw sockets in `ns`, marking what they send with `mark` (SO_MARK) unless 0.
  /// Throws HarnessError (EnvironmentError without CAP_NET_RAW, or CAP_NET_ADMIN for a mark).
  static RawInjector open_in(const NetNamespace& ns, std::uint32_t mark = 0);

  /// Send a complete IPv4 or IPv6 packet as it is, routed by its own destination address,
  /// except that a TCP checksum is recomputed (a queued copy may hold only the pseudo-header
  /// sum). Returns the bytes sent (valid until the next call): what a capture sees leave.
  /// Throws HarnessError when the packet is malformed, truncated or cannot be sent.
  std::span<const std::uint8_t> inject(std::span<const std::uint8_t> ip_packet);

 private:
  RawInjector(UniqueFd v4, UniqueFd v6) : v4_(std::move(v4)), v6_(std::move(v6)) {}

  UniqueFd v4_;
  UniqueFd v6_;
  std::vector<std::uint8_t> scratch_;  // the outgoing copy, reused
};

}  // namespace lastack::sys
