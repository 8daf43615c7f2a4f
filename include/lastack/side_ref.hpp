#pragma once
// A side as a policy names it: by who connected (client, server) or by the order of closing
// (first-closer, second-closer), which only the connection's first FIN settles.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "lastack/roles.hpp"

namespace lastack {

/// client, server, first-closer or second-closer. A Side converts to it implicitly; back to a Side
/// only through resolve_side, so a closer is never taken for the side it happens to be.
class SideRef {
 public:
  /// The side named by who connected.
  constexpr SideRef(Side side) : name_(side == Side::client ? Name::client : Name::server) {}  // NOLINT: widening
  /// The sender of the connection's first FIN (in a simultaneous close, the FIN on the wire first).
  static constexpr SideRef first_closer() { return SideRef(Name::first_closer); }
  /// The first closer's peer.
  static constexpr SideRef second_closer() { return SideRef(Name::second_closer); }

  /// The side itself when named by who connected; nullopt for a closer.
  constexpr std::optional<Side> fixed() const {
    if (name_ == Name::client) return Side::client;
    if (name_ == Name::server) return Side::server;
    return std::nullopt;
  }
  /// True for first-closer and second-closer.
  constexpr bool by_close_order() const { return !fixed(); }
  /// True for first-closer.
  constexpr bool is_first_closer() const { return name_ == Name::first_closer; }

  bool operator==(const SideRef&) const = default;
  // A SideRef and a Side compare only after resolve_side: a closer is no side until a FIN says.
  friend bool operator==(SideRef, Side) = delete;

 private:
  enum class Name : std::uint8_t { client, server, first_closer, second_closer };
  constexpr explicit SideRef(Name name) : name_(name) {}
  Name name_;
};

/// The side `ref` names on a connection whose first FIN came from `first_closer` (nullopt: no FIN
/// known yet); nullopt when `ref` is a closer and the first closer is not known.
constexpr std::optional<Side> resolve_side(SideRef ref, std::optional<Side> first_closer) {
  if (auto side = ref.fixed()) return side;
  if (!first_closer) return std::nullopt;
  return ref.is_first_closer() ? *first_closer : peer_of(*first_closer);
}

/// "client", "server", "first-closer" or "second-closer".
std::string_view side_ref_name(SideRef ref);
/// Inverse of side_ref_name; nullopt for anything else.
std::optional<SideRef> side_ref_from_name(std::string_view name);
/// Every name, in the order of side_ref_name's list (for error messages).
std::vector<std::string_view> all_side_ref_names();

}  // namespace lastack
