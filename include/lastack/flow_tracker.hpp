#pragma once
// Flow tracking: which connection a segment belongs to, who sent it, and its role tags.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <array>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "lastack/connection_number.hpp"
#include "lastack/roles.hpp"
#include "lastack/segment.hpp"

namespace lastack {

/// What the tracker learned about one segment.
struct Classified {
  ConnectionIndex connection;  // in order of first appearance
  Side from = Side::client;
  RoleSet roles;
  std::uint32_t rel_seq = 0;  // seq minus the sender's ISN (raw seq when the ISN is unknown)
  std::uint32_t rel_ack = 0;  // ack minus the receiver's ISN (raw ack when unknown)
  // The sender of the connection's first FIN, as far as the wire has shown (this segment
  // included); nullopt while no FIN was seen. A reader of a whole trace may fill it from the
  // whole connection instead (see close_order.hpp).
  std::optional<Side> first_closer;
};

/// Per-connection state machine over the segments seen on the wire, in wire order.
/// Pure: fed segments, answers roles; no clock, no I/O.
class FlowTracker {
 public:
  /// `client_addresses`: the client namespace's addresses; a segment from one of them is
  /// from the client (used before a SYN shows who opened the connection).
  explicit FlowTracker(std::vector<IpAddress> client_addresses);
  // Out of line: Connection is only complete in flow_tracker.cpp.
  ~FlowTracker();
  FlowTracker(FlowTracker&&) noexcept;
  FlowTracker& operator=(FlowTracker&&) noexcept;

  /// Classify `seg` and update the connection's state. Call once per segment as it is seen.
  /// A segment lastack `injected` (a copy, a RST) is classified, but its sequence numbers are not
  /// its sender's: they raise no high-water mark, so they make no later segment a repeat.
  Classified observe(const Segment& seg, bool injected = false);

  /// Number of connections seen so far.
  std::size_t connection_count() const;

 private:
  struct Connection;
  /// The connection `seg` belongs to; nullopt: it opens a new one.
  std::optional<std::size_t> incarnation_of(const Segment& seg) const;
  std::vector<IpAddress> client_addresses_;
  std::vector<Connection> connections_;
  // Endpoint pair (either order) -> its connections, oldest first: a run of many connections
  // looks a segment up, not through every connection. A fixed-size key: no allocation per segment.
  using PairKey = std::array<std::uint8_t, 2 * (1 + 16 + 2)>;  // family, address, port; twice
  struct PairKeyHash {
    std::size_t operator()(const PairKey& k) const noexcept;
  };
  static PairKey pair_key(const Segment& seg);
  std::unordered_map<PairKey, std::vector<std::size_t>, PairKeyHash> by_pair_;
};

}  // namespace lastack
