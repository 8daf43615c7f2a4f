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

/// inject-rst answers the `on` segment toward its sender, so `side` (who receives the RST) and
/// on.from name the same side: either may be left out, not both; they may not disagree, and a
/// side named by the order of closing must be named so in both (they can only agree live).
void read_inject_rst_side(const TableReader& t, LabAction& lab) {
  const std::optional<SideRef> side = t.named<SideRef>("side", "side", side_ref_from_name, side_or_closer_names);
  const std::optional<SideRef> on = lab.on.from;
  if (!side && !on)
    t.fail("on", fmt::format("action = \"inject-rst\" needs side (who receives the RST) or {}.from "
                             "(whose segment triggers it; the RST goes back to that sender)",
                             t.written("on")));
  if (side && on && *side != *on)
    t.fail("side", fmt::format("{} = \"{}\" but {}.from = \"{}\": inject-rst sends the RST to the sender "
                               "of the {} segment, so {} must be \"{}\" (or be left out)",
                               t.written("side"), side_ref_name(*side), t.written("on"), side_ref_name(*on),
                               t.written("on"), t.written("side"), side_ref_name(*on)));
  if (lab.on.segment == Role::rst)
    t.fail("on", fmt::format("inject-rst cannot answer a RST ({}.segment = \"rst\"): RFC 9293 never "
                             "resets a reset", t.written("on")));
  lab.side = side ? *side : *on;
  lab.on.from = lab.side;
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
    lab.side = read_side_or_closer(t, "side");
  }
  lab.after = t.duration("after").value_or(Millis{0});
  return lab;
}

}  // namespace lastack::policy_toml
