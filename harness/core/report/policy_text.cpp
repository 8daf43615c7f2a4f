#include "harness/core/report/policy_text.hpp"

#include <fmt/format.h>

#include "harness/core/decide/fault_window.hpp"
#include "lastack/duration.hpp"

namespace lastack {

namespace {
std::string ordinal(std::uint32_t n) {
  const char* suffix = (n % 100 >= 11 && n % 100 <= 13) ? "th"
                       : n % 10 == 1                   ? "st"
                       : n % 10 == 2                   ? "nd"
                       : n % 10 == 3                   ? "rd"
                                                       : "th";
  return fmt::format("{}{}", n, suffix);
}

// "final-ack from client on connection 2", "segment from any side".
std::string selector_text(const Selector& sel) {
  std::string text = sel.segment ? std::string(role_name(*sel.segment)) : "segment";
  text += sel.from ? fmt::format(" from {}", side_ref_name(*sel.from)) : "";
  if (sel.connection) text += fmt::format(" on connection {}", sel.connection->value);
  return text;
}
}  // namespace

std::string describe_selection(const FaultRule& rule) {
  const std::string what = selector_text(rule.match);
  const std::string step = rule.every > 1 ? fmt::format(", every {}", ordinal(rule.every)) : "";
  if (!rule.count) return rule.nth == 1 ? fmt::format("every {}{}", what, step)
                                        : fmt::format("every {} from the {} on{}", what, ordinal(rule.nth), step);
  if (*rule.count == 1) return fmt::format("the {} {}", ordinal(rule.nth), what);
  if (rule.every > 1) return fmt::format("{} of every {} {}, from the {} on", *rule.count, ordinal(rule.every), what, ordinal(rule.nth));
  return fmt::format("the {} to {} {}", ordinal(rule.nth), ordinal(rule.nth + *rule.count - 1), what);
}

std::string describe_link(const LinkDirection& d) {
  std::vector<std::string> parts;
  if (d.latency.count() > 0 || d.jitter.count() > 0) {
    std::string delay = format_duration(d.latency);
    if (d.jitter.count() > 0)
      delay += fmt::format(" ± {}, {}", format_duration(d.jitter), d.reorder ? "may reorder" : "in order");
    parts.push_back(delay);
  }
  if (d.rate)
    parts.push_back(fmt::format("{} Mbit/s, queue {}", static_cast<double>(*d.rate) / 1e6,
                                d.queue_segments ? fmt::format("{} segments", *d.queue_segments)
                                                 : fmt::format("{} bytes", d.queue_bytes.value_or(0))));
  if (d.loss > 0) parts.push_back(fmt::format("loss p={}", d.loss));
  if (d.duplicate > 0) parts.push_back(fmt::format("duplicate p={}", d.duplicate));
  if (parts.empty()) return "nothing";
  std::string out = parts.front();
  for (std::size_t i = 1; i < parts.size(); ++i) out += "; " + parts[i];
  return out;
}

std::string describe_fault(const FaultRule& rule) {
  const std::string which =
      describe_selection(rule) +
      (rule.probability ? fmt::format(" ({}by chance, p={})", rule.count == 1u ? "" : "each ", *rule.probability) : "") +
      (rule.window ? fmt::format(" in the window {}", window_text(*rule.window)) : "");
  switch (rule.action) {
    case ActionKind::drop:
      return "drop " + which;
    case ActionKind::reset:
      return fmt::format("replace {} by a RST to {}", which,
                         rule.reset_to ? fmt::format("the {}", side_name(*rule.reset_to)) : std::string("both ends"));
    case ActionKind::delay:
      return fmt::format("delay {} by {}", which, format_duration(rule.delay));
    case ActionKind::duplicate: {
      std::string text =
          fmt::format("duplicate {} ({} extra cop{})", which, rule.copies, rule.copies == 1 ? "y" : "ies");
      if (rule.until) text += ", the copies held until a " + selector_text(*rule.until) + " goes by";
      if (rule.deadline.count() > 0) text += fmt::format(" (at most {})", format_duration(rule.deadline));
      return text;
    }
    case ActionKind::hold: {
      std::string text = "hold " + which;
      if (rule.until) text += " until a " + selector_text(*rule.until) + " goes by";
      text += rule.deadline.count() > 0 ? fmt::format(" (at most {})", format_duration(rule.deadline))
                                        : " (at most until the run ends)";
      return text;
    }
  }
  return which;
}

// "server", or "first-closer" when the order of closing names the side.
std::string lab_side_text(const LabAction& action) {
  return std::string(side_ref_name(action.side));
}

std::string describe_lab_action(const LabAction& action) {
  const std::string when = action.after.count() > 0
                               ? fmt::format("{} after a {}", format_duration(action.after), selector_text(action.on))
                               : fmt::format("when a {} goes by", selector_text(action.on));
  switch (action.action) {
    case LabActionKind::destroy_timewait:
      return fmt::format("{}: destroy the {}'s TIME_WAIT socket (SOCK_DESTROY)", when, lab_side_text(action));
    case LabActionKind::inject_rst:
      return fmt::format("{}: inject a RST toward the {} (in its receive window)", when, lab_side_text(action));
  }
  return when;
}

std::vector<std::string> agent_behaviours(const Policy& policy) {
  std::vector<std::string> out;
  for (const Side side : {Side::client, Side::server})
    for (const Step& step : policy.scenario.steps[side])
      // A reset by SO_LINGER 0, or a process that dies with unread data: one program's choice.
      if (step.kind == StepKind::abort || step.kind == StepKind::exit)
        out.push_back(fmt::format("{}: {}", side_name(side), step.text));
  return out;
}

}  // namespace lastack
