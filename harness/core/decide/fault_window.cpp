// Fault windows: a fault active from `from` after its anchor for `for`, on the run's clock.
#include "harness/core/decide/fault_window.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "harness/core/decide/decision.hpp"
#include "lastack/duration.hpp"

namespace lastack {

WindowSpan window_span(const FaultWindow& w, Instant anchor) {
  WindowSpan span{anchor + w.from, std::nullopt};
  if (w.length) span.closes = span.opens + *w.length;
  return span;
}

WindowPhase window_phase(const WindowSpan& span, Instant now) {
  if (now < span.opens) return WindowPhase::waiting;
  if (span.closes && now >= *span.closes) return WindowPhase::closed;
  return WindowPhase::open;
}

FaultWindows::FaultWindows(const std::vector<FaultRule>& rules, bool per_connection)
    : anchors_(rules.size()), per_connection_(per_connection) {
  windows_.reserve(rules.size());
  for (const FaultRule& r : rules) windows_.push_back(r.window);
}

void FaultWindows::add(const FaultRule& rule) {
  windows_.push_back(rule.window);
  anchors_.emplace_back();
}

void FaultWindows::limit(std::size_t rule, WindowSpan span) { limits_[rule] = span; }

bool FaultWindows::active(std::size_t rule, const Classified& seg, Instant now) const {
  if (const auto it = limits_.find(rule); it != limits_.end() && window_phase(it->second, now) != WindowPhase::open)
    return false;
  const std::optional<FaultWindow>& w = windows_.at(rule);
  if (!w) return true;
  Instant anchor{};
  if (w->after) {
    const auto& at = anchors_[rule].at;
    const auto it = at.find(scope(seg));
    if (it == at.end()) return false;
    anchor = it->second;
  }
  return window_phase(window_span(*w, anchor), now) == WindowPhase::open;
}

void FaultWindows::observe(const Classified& seg, Instant now) {
  for (std::size_t i = 0; i < windows_.size(); ++i) {
    const std::optional<FaultWindow>& w = windows_[i];
    if (!w || !w->after || !selector_matches(*w->after, seg)) continue;
    Anchors& a = anchors_[i];
    if (++a.matched[scope(seg)] == w->after_nth) a.at.emplace(scope(seg), now);
  }
}

std::vector<WindowEdge> FaultWindows::edges(Instant until) const {
  std::vector<WindowEdge> out;
  const auto add = [&](std::size_t fault, std::optional<ConnectionIndex> connection, const WindowSpan& span) {
    if (span.opens <= until) out.push_back({fault, connection, span.opens, true});
    if (span.closes && *span.closes <= until) out.push_back({fault, connection, *span.closes, false});
  };
  for (std::size_t i = 0; i < windows_.size(); ++i) {
    const std::optional<FaultWindow>& w = windows_[i];
    if (!w) continue;
    if (!w->after) {
      add(i, std::nullopt, window_span(*w, Instant{}));
      continue;
    }
    for (const auto& [scope, anchor] : anchors_[i].at)
      add(i, per_connection_ ? std::optional(ConnectionIndex{scope}) : std::nullopt, window_span(*w, anchor));
  }
  std::stable_sort(out.begin(), out.end(), [](const WindowEdge& a, const WindowEdge& b) { return a.at < b.at; });
  return out;
}

std::vector<std::size_t> FaultWindows::never_opened(Instant until) const {
  std::vector<bool> opened(windows_.size(), false);
  for (const WindowEdge& e : edges(until)) opened[e.fault] = opened[e.fault] || e.opens;
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < windows_.size(); ++i)
    if (windows_[i] && !opened[i]) out.push_back(i);
  return out;
}

std::vector<LabEvent> never_opened_notes(const std::vector<FaultRule>& rules, const std::vector<std::size_t>& faults,
                                         Instant until) {
  std::vector<LabEvent> out;
  for (std::size_t i : faults) {
    LabEvent ev;
    ev.at = until;
    ev.kind = LabEventKind::note;
    ev.fault = i;
    ev.what = fmt::format("fault {}'s window never opened before the run ended ({}): it acted on nothing", i + 1,
                          window_text(*rules.at(i).window));
    out.push_back(std::move(ev));
  }
  return out;
}

std::string window_text(const FaultWindow& w) {
  std::string text = fmt::format("from {}", format_duration(w.from));
  if (w.length) text += fmt::format(" for {}", format_duration(*w.length));
  if (!w.after) return text + " after the run's start";
  const Selector& s = *w.after;
  const std::string what = s.segment ? std::string(role_name(*s.segment)) : "segment";
  text += fmt::format(" after {}", what);
  if (s.from) text += fmt::format(" from {}", side_ref_name(*s.from));
  if (w.after_nth > 1) text += fmt::format(" #{}", w.after_nth);
  if (s.connection) text += fmt::format(" of connection {}", s.connection->value);
  return text;
}

std::vector<LabEvent> window_events(const std::vector<FaultRule>& rules, const std::vector<WindowEdge>& edges) {
  std::vector<LabEvent> out;
  for (const WindowEdge& e : edges) {
    const FaultWindow& w = *rules.at(e.fault).window;
    const std::string where = e.connection ? fmt::format(" on connection {}", number_of(*e.connection).value) : "";
    LabEvent ev;
    ev.at = e.at;
    ev.kind = e.opens ? LabEventKind::window_opened : LabEventKind::window_closed;
    ev.fault = e.fault;
    ev.what = e.opens ? fmt::format("fault {}'s window opens{} ({})", e.fault + 1, where, window_text(w))
                      : fmt::format("fault {}'s window closes{} (open {})", e.fault + 1, where,
                                    format_duration(*w.length));
    out.push_back(std::move(ev));
  }
  return out;
}

}  // namespace lastack
