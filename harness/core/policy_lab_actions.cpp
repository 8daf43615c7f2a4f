// [[lab]] tables: an action, the segment that triggers it, whose socket it acts on, and when.
#include "harness/core/policy_lab_actions.hpp"

#include "harness/core/policy_selectors.hpp"

namespace lastack::policy_toml {

namespace {

const std::vector<std::string_view> lab_action_names = {"destroy-timewait", "inject-rst"};

std::optional<LabActionKind> lab_action_from_name(std::string_view name) {
  if (name == "destroy-timewait") return LabActionKind::destroy_timewait;
  if (name == "inject-rst") return LabActionKind::inject_rst;
  return std::nullopt;
}

/// inject-rst answers the `on` segment toward its sender, so `side` (who receives the RST) and
/// on.from name the same side: either may be left out, not both; they may not disagree.
void read_inject_rst_side(const TableReader& t, LabAction& lab) {
  const std::optional<Side> side = t.named<Side>("side", "side", side_from_name, side_names);
  if (!side && !lab.on.from)
    t.fail("on", fmt::format("action = \"inject-rst\" needs side (who receives the RST) or {}.from "
                             "(whose segment triggers it; the RST goes back to that sender)",
                             t.written("on")));
  if (side && lab.on.from && *side != *lab.on.from)
    t.fail("side", fmt::format("{} = \"{}\" but {}.from = \"{}\": inject-rst sends the RST to the sender "
                               "of the {} segment, so {} must be \"{}\" (or be left out)",
                               t.written("side"), side_name(*side), t.written("on"), side_name(*lab.on.from),
                               t.written("on"), t.written("side"), side_name(*lab.on.from)));
  if (lab.on.segment == Role::rst)
    t.fail("on", fmt::format("inject-rst cannot answer a RST ({}.segment = \"rst\"): RFC 9293 never "
                             "resets a reset", t.written("on")));
  lab.side = side.value_or(lab.on.from.value_or(Side::client));
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
    lab.side = read_side(t, "side");
  }
  lab.after = t.duration("after").value_or(Millis{0});
  return lab;
}

}  // namespace lastack::policy_toml
