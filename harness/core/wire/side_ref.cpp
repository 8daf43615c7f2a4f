#include "lastack/side_ref.hpp"

#include <array>

namespace lastack {

namespace {

const std::array<SideRef, 4> all_refs = {Side::client, Side::server, SideRef::first_closer(),
                                         SideRef::second_closer()};

}  // namespace

std::string_view side_ref_name(SideRef ref) {
  if (auto side = ref.fixed()) return side_name(*side);
  return ref.is_first_closer() ? "first-closer" : "second-closer";
}

std::optional<SideRef> side_ref_from_name(std::string_view name) {
  for (const SideRef ref : all_refs)
    if (side_ref_name(ref) == name) return ref;
  return std::nullopt;
}

std::vector<std::string_view> all_side_ref_names() {
  std::vector<std::string_view> out;
  for (const SideRef ref : all_refs) out.push_back(side_ref_name(ref));
  return out;
}

}  // namespace lastack
