// [[fault]] tables: a selector, which matches (nth / count / every), and one action.
#include "harness/core/policy/policy_faults.hpp"

#include "harness/core/policy/policy_fault_window.hpp"
#include "harness/core/policy/policy_selectors.hpp"

namespace lastack::policy_toml {

namespace {

// More copies than this would flood the link rather than test anything.
constexpr std::int64_t max_copies = 100;

const std::vector<std::string_view> action_names = {"drop", "delay", "hold", "duplicate", "reset"};
const std::vector<std::string_view> reset_to_names = {"client", "server", "both"};

std::optional<ActionKind> action_from_name(std::string_view name) {
  if (name == "drop") return ActionKind::drop;
  if (name == "delay") return ActionKind::delay;
  if (name == "hold") return ActionKind::hold;
  if (name == "duplicate") return ActionKind::duplicate;
  if (name == "reset") return ActionKind::reset;
  return std::nullopt;
}

/// until / deadline: what a held segment (or a duplicate's held copies) waits for.
void read_release(const TableReader& t, FaultRule& rule) {
  if (t.has("until")) rule.until = read_selector_table(t, "until");
  rule.deadline = t.duration("deadline").value_or(Millis{0});
  if (t.has("deadline") && rule.deadline.count() == 0)
    t.fail("deadline", fmt::format("{} must be more than 0ms", t.written("deadline")));
}

/// reset-to = "client" | "server" | "both" (the default): who receives a RST.
std::optional<Side> read_reset_to(const TableReader& t) {
  const auto lookup = [](std::string_view name) -> std::optional<std::optional<Side>> {
    if (name == "both") return std::optional<Side>{};
    if (auto side = side_from_name(name)) return side;
    return std::nullopt;
  };
  return t.named<std::optional<Side>>("reset-to", "end", lookup, reset_to_names).value_or(std::nullopt);
}

}  // namespace

FaultRule read_fault(const toml::table& table, const Problems& problems, Millis timeout) {
  const TableReader t(table, "[[fault]]",
                      {"segment", "from", "connection", "nth", "count", "every", "action", "delay",
                       "until", "deadline", "copies", "probability", "window", "reset-to"},
                      problems);
  FaultRule rule;
  rule.line = t.line();
  rule.match = read_selector(t);
  const auto nth = t.integer("nth", 1, u32_max);
  const auto count = t.integer("count", 1, u32_max);
  const auto every = t.integer("every", 1, u32_max);
  rule.nth = static_cast<std::uint32_t>(nth.value_or(1));
  // "the nth one" means that one only; no nth means every match.
  if (count) rule.count = static_cast<std::uint32_t>(*count);
  else if (nth) rule.count = 1;
  rule.every = static_cast<std::uint32_t>(every.value_or(1));
  rule.probability = t.probability("probability");
  rule.window = read_fault_window(t, timeout);

  t.require("action", fmt::format("one of: {}", joined(action_names)));
  rule.action = *t.named<ActionKind>("action", "action", action_from_name, action_names);
  // A connection is reset once: without nth or count, the first segment the rule picks.
  if (rule.action == ActionKind::reset && !count && !nth) rule.count = 1;
  const auto only_with = [&](std::string_view key, ActionKind action, std::string_view action_text) {
    if (t.has(key) && rule.action != action)
      t.fail(key, fmt::format("{} is only allowed with action = \"{}\"", t.written(key), action_text));
  };
  only_with("delay", ActionKind::delay, "delay");
  for (std::string_view key : {"until", "deadline"})
    if (t.has(key) && rule.action != ActionKind::hold && rule.action != ActionKind::duplicate)
      t.fail(key, fmt::format("{} is only allowed with action = \"hold\" or \"duplicate\"", t.written(key)));
  only_with("copies", ActionKind::duplicate, "duplicate");
  only_with("reset-to", ActionKind::reset, "reset");

  switch (rule.action) {
    case ActionKind::drop: break;
    case ActionKind::reset:
      rule.reset_to = read_reset_to(t);
      break;
    case ActionKind::delay:
      t.require("delay", "action = \"delay\" needs it, e.g. delay = \"300ms\"");
      rule.delay = *t.duration("delay");
      if (rule.delay.count() == 0) t.fail("delay", fmt::format("{} must be more than 0ms", t.written("delay")));
      break;
    case ActionKind::hold:
      // A hold with nothing to wait for would keep the segment until the run ends: a drop in
      // disguise, and the ladder would call it a hold.
      if (!t.has("until") && !t.has("deadline"))
        t.problems().at(t.line(), "hold needs \"until\" or \"deadline\"");
      read_release(t, rule);
      break;
    case ActionKind::duplicate:
      rule.copies = static_cast<std::uint32_t>(t.integer("copies", 1, max_copies).value_or(1));
      // until/deadline: the copies are held, like old duplicates still in the network.
      read_release(t, rule);
      break;
  }
  return rule;
}

}  // namespace lastack::policy_toml
