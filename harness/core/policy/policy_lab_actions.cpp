// [[lab]] tables: an action, the segment that triggers it, whose socket it acts on, and when.
#include "harness/core/policy/policy_lab_actions.hpp"

#include "harness/core/policy/policy_selectors.hpp"

namespace lastack::policy_toml {

namespace {

const std::vector<std::string_view> lab_action_names = {"destroy-timewait", "inject-rst"};

std::optional<LabActionKind> lab_action_from_name(std::string_view name) {
  if (name == "destroy-timewait") return LabActionKind::destroy_timewait;
  if (name == "inject-rst") return LabActionKind::inject_rst;
  return std::nullopt;
}

// How a side reads in an error: "client", "first-closer".
std::string side_text(const SideName& name) {
  return std::string(name.side ? side_name(*name.side) : close_order_name(*name.closer));
}

/// inject-rst answers the `on` segment toward its sender, so `side` (who receives the RST) and
/// on.from name the same side: either may be left out, not both; they may not disagree, and a
/// side named by the order of closing must be named so in both (they can only agree live).
void read_inject_rst_side(const TableReader& t, LabAction& lab) {
  const std::optional<SideName> side = t.named<SideName>("side", "side", side_or_closer_from_name, side_or_closer_names);
  const SideName on{lab.on.from, lab.on.closer};
  if (!side && !on.given())
    t.fail("on", fmt::format("action = \"inject-rst\" needs side (who receives the RST) or {}.from "
                             "(whose segment triggers it; the RST goes back to that sender)",
                             t.written("on")));
  if (side && on.given() && (side->side != on.side || side->closer != on.closer))
    t.fail("side", fmt::format("{} = \"{}\" but {}.from = \"{}\": inject-rst sends the RST to the sender "
                               "of the {} segment, so {} must be \"{}\" (or be left out)",
                               t.written("side"), side_text(*side), t.written("on"), side_text(on),
                               t.written("on"), t.written("side"), side_text(on)));
  if (lab.on.segment == Role::rst)
    t.fail("on", fmt::format("inject-rst cannot answer a RST ({}.segment = \"rst\"): RFC 9293 never "
                             "resets a reset", t.written("on")));
  const SideName chosen = side ? *side : on;
  lab.side = chosen.side.value_or(Side::client);
  lab.side_closer = chosen.closer;
  lab.on.from = chosen.side;
  lab.on.closer = chosen.closer;
}

}  // namespace

LabAction read_lab(const toml::table& table, const Problems& problems) {
  const TableReader t(table, "[[lab]]", {"action", "on", "side", "after"}, problems);
  LabAction lab;
  lab.line = t.line();
  t.require("action", fmt::format("one of: {}", joined(lab_action_names)));
  lab.action = *t.named<LabActionKind>("action", "lab action", lab_action_from_name, lab_action_names);
  t.require("on", fmt::format("which segment triggers it, e.g. on = {}", selector_example));
  lab.on = read_selector_table(t, "on");
  if (lab.action == LabActionKind::inject_rst) {
    read_inject_rst_side(t, lab);
  } else {
    const SideName side = read_side_or_closer(t, "side");
    lab.side = side.side.value_or(Side::client);
    lab.side_closer = side.closer;
  }
  lab.after = t.duration("after").value_or(Millis{0});
  return lab;
}

}  // namespace lastack::policy_toml
