// `window = { from = "2s", for = "3s", after = { segment = "data", from = "server", nth = 3 } }`.
#include "harness/core/policy/policy_fault_window.hpp"

#include "harness/core/policy/policy_selectors.hpp"

namespace lastack::policy_toml {

namespace {

constexpr std::string_view after_example = "{ segment = \"data\", from = \"server\", nth = 3 }";

/// `after`: a selector with its own nth (which match of it anchors the window).
void read_after(const TableReader& window, FaultWindow& w) {
  const toml::table* table = window.table("after", after_example);
  const TableReader t(*table, fmt::format("{} {}", window.title(), window.written("after")),
                      {"segment", "from", "connection", "nth"}, window.problems());
  w.after = read_selector(t);
  w.after_nth = static_cast<std::uint32_t>(t.integer("nth", 1, u32_max).value_or(1));
}

}  // namespace

std::optional<FaultWindow> read_fault_window(const TableReader& fault, Millis timeout) {
  if (!fault.has("window")) return std::nullopt;
  const toml::table* table = fault.table("window", window_example);
  const std::string title = fmt::format("{} {}", fault.title(), fault.written("window"));
  const TableReader t(*table, title, {"from", "for", "after"}, fault.problems());
  if (!t.has("from") && !t.has("for"))
    fault.fail("window", fmt::format("{} needs from and/or for, e.g. window = {}", fault.written("window"),
                                     window_example));
  FaultWindow w;
  w.line = fault.line("window");
  // `for` alone: from the anchor on (the run's start, or the after segment).
  w.from = t.duration("from").value_or(Millis{0});
  w.length = t.duration("for");
  if (w.length && w.length->count() == 0)
    t.fail("for", fmt::format("{}.{} = \"0ms\": a window that lasts no time never opens", fault.written("window"),
                              t.written("for")));
  if (t.has("after")) read_after(t, w);
  // The anchor is the run's start at the earliest, so a window opening at or after the run's
  // timeout could never be open while the run goes on.
  if (w.from >= timeout)
    t.fail("from", fmt::format("{}.{} = \"{}\" opens at or after the scenario's timeout ({}): it can never open",
                               fault.written("window"), t.written("from"), format_duration(w.from),
                               format_duration(timeout)));
  return w;
}

}  // namespace lastack::policy_toml
