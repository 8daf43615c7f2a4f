#pragma once
// Helpers the policy expectation checks share (expectations.cpp, expectations_wire.cpp).
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "lastack/oracle.hpp"
#include "harness/core/oracle/close_order.hpp"
#include "harness/core/trace/retransmission_labels.hpp"
#include "harness/core/trace/trace_query.hpp"

namespace lastack::detail {

/// Why a check about the retransmissions `sel` selects cannot be decided: the sender's (either
/// side's, when `sel` names none) retransmissions are named only by the wire's inference.
inline std::optional<std::string> unnamed_retransmissions(const Trace& trace, const Selector& sel) {
  const std::optional<Side> from = sel.from ? side_on(trace, *sel.from, sel.connection) : std::nullopt;
  for (const Side side : {Side::client, Side::server})
    if (!from || *from == side)
      if (auto why = retransmissions_unnamed(trace, side)) return why;
  return std::nullopt;
}

inline CheckResult expectation(std::string name, std::size_t line) {
  CheckResult r;
  r.name = std::move(name);
  r.line = line;
  return r;
}

// A check whose side is a closer the trace does not resolve: not checked (check_expectation
// says why).
inline CheckResult not_resolved(CheckResult r) {
  r.outcome = Outcome::not_checked;
  return r;
}

inline std::string join(const std::vector<std::string>& items, std::string_view sep = "; ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

// How many segments a verdict lists before it writes "...".
constexpr std::size_t listed_segments = 5;
constexpr std::size_t listed_close_segments = 8;  // a close with a few retransmissions fits
constexpr std::size_t listed_connections = 10;    // a run of many connections names the first ones

/// A check's subject when it names a side: `ref` as the policy wrote it, and the side it names
/// on `trace` (over `connection`, else every connection; unset for a closer no FIN
/// settles there).
inline CheckSubject side_subject(const Trace& trace, std::optional<SideRef> ref,
                                 std::optional<ConnectionNumber> connection = std::nullopt) {
  CheckSubject s;
  s.side = ref;
  if (ref) s.resolved = side_on(trace, *ref, connection);
  return s;
}

/// The subject of a check about the segments `sel` selects (and `with`, a second role they carry).
inline CheckSubject selector_subject(const Trace& trace, const Selector& sel, std::optional<Role> with = std::nullopt) {
  CheckSubject s = side_subject(trace, sel.from, sel.connection);
  s.segment = sel.segment;
  s.with = with;
  s.connection = sel.connection;
  return s;
}

inline std::string times_text(std::size_t n) {
  if (n == 1) return "once";
  if (n == 2) return "twice";
  return fmt::format("{} times", n);
}

// "1 segment", "3 segments".
inline std::string counted(std::size_t n, std::string_view noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

// The first `limit` items, then "..." when there were more.
inline std::string first_few(const std::vector<std::string>& items, std::size_t limit) {
  const auto shown_count = static_cast<std::ptrdiff_t>(std::min(limit, items.size()));
  std::vector<std::string> shown(items.begin(), items.begin() + shown_count);
  if (items.size() > limit) shown.emplace_back("...");
  return join(shown, ", ");
}

// What sets a segment apart in a list: "retransmission", "dropped"; empty for a plain one.
inline std::vector<std::string> segment_notes(const WireEvent& w) {
  std::vector<std::string> notes;
  if (w.info.roles.has(Role::retransmission)) notes.emplace_back("retransmission");
  if (w.fate != Fate::passed) notes.emplace_back(fate_name(w.fate));
  return notes;
}

// Distinct connections on the wire, in order of first appearance, with their segments.
inline std::vector<std::pair<ConnectionIndex, std::vector<const WireEvent*>>> wire_connections(
    const Trace& trace) {
  std::vector<std::pair<ConnectionIndex, std::vector<const WireEvent*>>> out;
  for (const WireEvent* w : wire_events(trace)) {
    auto it = std::find_if(out.begin(), out.end(),
                           [w](const auto& c) { return c.first == w->info.connection; });
    if (it == out.end()) it = out.insert(out.end(), {w->info.connection, {}});
    it->second.push_back(w);
  }
  return out;
}

inline std::string sides_text(const std::set<Side>& sides) {
  if (sides.empty()) return "nobody";
  std::vector<std::string> names;
  for (Side s : sides) names.emplace_back(side_name(s));
  return join(names, " and ");
}

inline bool same_text_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}





}  // namespace lastack::detail
