#pragma once
// Segment roles: the names a policy uses to select segments ("final-ack", "syn-ack", ...).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lastack {

/// Which endpoint sent a segment or owns a socket. The client is the side that sent the SYN.
enum class Side : std::uint8_t { client, server };

/// "client" or "server".
std::string_view side_name(Side side);
/// The other endpoint.
constexpr Side peer_of(Side side) { return side == Side::client ? Side::server : Side::client; }

/// Every role tag the flow tracker can put on a segment (docs/design.md: Segment roles).
enum class Role : std::uint8_t {
  syn,             // SYN without ACK
  syn_ack,         // SYN with ACK
  handshake_ack,   // the ACK completing the three-way handshake (with or without data)
  data,            // payload > 0
  ack,             // pure ACK: no SYN/FIN/RST, no payload
  fin,             // any FIN
  first_fin,       // the FIN of the side that closed first (and its retransmissions)
  second_fin,      // the FIN of the other side (and its retransmissions)
  first_fin_ack,   // the peer's acknowledgment of the first FIN ("second wave")
  final_ack,       // the acknowledgment of the second FIN: the last segment of the close
  rst,             // RST
  retransmission,  // carries sequence space already seen in this direction
};
inline constexpr std::size_t role_count = 12;

/// The policy spelling: "syn-ack", "final-ack", ...
std::string_view role_name(Role role);
/// Inverse of role_name; nullopt for an unknown name.
std::optional<Role> role_from_name(std::string_view name);
/// Every policy spelling, in enum order (for error messages and help).
std::vector<std::string_view> all_role_names();

/// A set of roles, as a bitmask.
class RoleSet {
 public:
  constexpr RoleSet() = default;
  constexpr bool has(Role r) const { return bits_ & bit(r); }
  constexpr void add(Role r) { bits_ |= bit(r); }
  constexpr void remove(Role r) { bits_ &= static_cast<std::uint16_t>(~bit(r)); }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool operator==(const RoleSet&) const = default;
  /// The roles in enum order.
  std::vector<Role> list() const;
  /// Names joined with ",": "fin,first-fin".
  std::string str() const;

 private:
  static constexpr std::uint16_t bit(Role r) { return std::uint16_t(1u << static_cast<unsigned>(r)); }
  std::uint16_t bits_ = 0;
};

}  // namespace lastack
