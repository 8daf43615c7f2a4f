// [[expect]] tables: each check kind has its own keys; unknown keys and kinds are errors.
#include "harness/core/policy/policy_expect.hpp"

#include "harness/core/policy/policy_expect_counters.hpp"
#include "harness/core/policy/policy_expect_sockets.hpp"

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "harness/core/policy/policy_selectors.hpp"

namespace lastack::policy_toml {

namespace {

const std::vector<std::string_view> check_names = {"retransmitted", "state", "reset", "app",
                                                   "timewait", "segments", "close", "connections",
                                                   "socket-held", "counter"};

std::vector<std::string_view> state_names() {
  std::vector<std::string_view> names;
  for (int s = static_cast<int>(TcpState::ESTABLISHED); s <= static_cast<int>(TcpState::NEW_SYN_RECV); ++s)
    names.push_back(state_name(static_cast<TcpState>(s)));
  return names;
}

std::optional<std::uint32_t> read_count(const TableReader& t) {
  const auto count = t.integer("count", 0, u32_max);
  return count ? std::optional<std::uint32_t>(static_cast<std::uint32_t>(*count)) : std::nullopt;
}

// connection = N (numbered from 1): the expectation judges that connection only; unset: every one.
std::optional<ConnectionNumber> read_connection(const TableReader& t) {
  const auto connection = t.integer("connection", 1, u32_max);
  return connection ? std::optional(ConnectionNumber{static_cast<std::size_t>(*connection)}) : std::nullopt;
}

RetransmittedExpect read_retransmitted(const TableReader& t) {
  RetransmittedExpect e;
  e.line = t.line();
  t.require("segment");
  e.segment = read_selector(t);
  e.count = read_count(t);
  if (const toml::node* after = t.node("after"); after != nullptr && after->value<std::string>() == "rto")
    e.after = SenderRto{};
  else if (const auto gap = t.duration("after"))
    e.after = *gap;
  e.backoff = t.boolean("backoff").value_or(false);
  return e;
}

StateExpect read_state(const TableReader& t) {
  StateExpect e;
  e.line = t.line();
  e.side = read_side_or_closer(t, "side");
  t.require_one_of({"reaches", "ends-in", "never"});
  const auto state = [&](std::string_view key) {
    return t.named<TcpState>(key, "state", state_from_name, state_names());
  };
  e.reaches = state("reaches");
  e.ends_in = state("ends-in");
  e.never = state("never");
  e.connection = read_connection(t);
  return e;
}

ResetExpect read_reset(const TableReader& t) {
  ResetExpect e;
  e.line = t.line();
  e.from = read_from_or_closer(t);
  e.count = read_count(t);
  e.injected = t.boolean("injected").value_or(false);  // lastack's inject-rst RSTs count too
  e.connection = read_connection(t);
  // received-by: the RSTs a kernel accepted, not those sent: `from` and `injected` say nothing then.
  e.received_by = t.named<Side>("received-by", "side", side_from_name, side_names);
  for (std::string_view key : {"from", "injected"})
    if (e.received_by && t.has(key))
      t.fail(key, fmt::format("{} does not go with {} (which counts the RSTs a kernel accepted, whoever sent them)",
                              t.written(key), t.written("received-by")));
  return e;
}

/// "eof", "ok", or an errno name: ECONNRESET, ETIMEDOUT, ...
bool is_app_outcome(std::string_view sees) {
  if (sees == "eof" || sees == "ok") return true;
  return sees.size() >= 2 && sees[0] == 'E' && std::all_of(sees.begin() + 1, sees.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

/// output = "regex": must compile as an ECMAScript regular expression.
void check_output_regex(const TableReader& t, const std::string& pattern) {
  try {
    const std::regex compiled(pattern, std::regex::ECMAScript | std::regex::multiline);
  } catch (const std::regex_error& e) {
    t.fail("output", fmt::format("{} = \"{}\" is not a regular expression (ECMAScript): {}",
                                 t.written("output"), pattern, e.what()));
  }
}

AppExpect read_app(const TableReader& t) {
  AppExpect e;
  e.line = t.line();
  e.side = read_side_or_closer(t, "side");
  t.require_one_of({"sees", "received", "sent", "exit", "output", "stale-from"});
  if (auto code = t.integer("exit", 0, 255)) e.exit_status = static_cast<int>(*code);
  e.output = t.string("output");
  if (e.output) check_output_regex(t, *e.output);
  e.sees = t.string("sees");
  if (e.sees && !is_app_outcome(*e.sees))
    t.fail("sees", fmt::format("unknown outcome \"{}\" for {} (expected eof, ok or an errno name such "
                               "as ECONNRESET)", *e.sees, t.written("sees")));
  if (auto received = t.integer("received", 0, i64_max)) e.received = static_cast<std::uint64_t>(*received);
  if (auto sent = t.integer("sent", 0, i64_max)) e.sent = static_cast<std::uint64_t>(*sent);
  if (auto from = t.integer("stale-from", 1, 65535)) e.stale_from = ConnectionNumber{static_cast<std::size_t>(*from)};
  return e;
}

TimeWaitExpect read_timewait(const TableReader& t) {
  TimeWaitExpect e;
  e.line = t.line();
  t.require_one_of({"entered-by", "expires-min", "expires-max", "restarted"});
  if (const toml::node* value = t.node("entered-by")) {
    const std::string shape =
        fmt::format("{} must be an array of sides, e.g. [\"client\"]", t.written("entered-by"));
    if (!value->is_array()) t.fail("entered-by", shape);
    std::vector<SideRef> sides;
    for (const toml::node& element : *value->as_array()) {
      const std::size_t line = t.value_line(element, "entered-by");
      if (!element.is_string()) t.problems().at(line, shape);
      const std::string& name = element.as_string()->get();
      const auto side = side_ref_from_name(name);
      if (!side)
        t.problems().at(line, fmt::format("unknown side \"{}\" (expected one of: {})", name,
                                          joined(side_or_closer_names)));
      if (std::find(sides.begin(), sides.end(), *side) != sides.end())
        t.problems().at(line, fmt::format("{} lists \"{}\" twice", t.written("entered-by"), name));
      sides.push_back(*side);
    }
    e.entered_by = std::move(sides);
  }
  e.expires_min = t.duration("expires-min");
  e.expires_max = t.duration("expires-max");
  if (e.expires_min && e.expires_max && *e.expires_min > *e.expires_max)
    t.fail("expires-max", fmt::format("{} ({}) is more than {} ({})", t.written("expires-min"),
                                      format_duration(*e.expires_min), t.written("expires-max"),
                                      format_duration(*e.expires_max)));
  e.restarted = t.boolean("restarted");
  e.connection = read_connection(t);
  return e;
}

SegmentsExpect read_segments(const TableReader& t) {
  SegmentsExpect e;
  e.line = t.line();
  t.require("segment", "the role to count, e.g. segment = \"syn-ack\"");
  e.segment = read_selector(t);
  e.with = t.named<Role>("with", "segment", role_from_name, all_role_names());
  t.require_one_of({"count", "min", "max"});
  e.bound = read_count_bound<std::uint32_t>(t, 0, u32_max);
  return e;
}

CloseExpect read_close(const TableReader& t) {
  CloseExpect e;
  e.line = t.line();
  t.require("segments", "how many segments from the first FIN through the final ACK, e.g. segments = 4");
  e.segments = static_cast<std::uint32_t>(*t.integer("segments", 1, u32_max));
  e.connection = read_connection(t);
  return e;
}

ConnectionsExpect read_connections(const TableReader& t) {
  ConnectionsExpect e;
  e.line = t.line();
  t.require("count", "how many connections appear on the wire, e.g. count = 1");
  e.count = static_cast<std::uint32_t>(*t.integer("count", 1, u32_max));
  return e;
}

}  // namespace

template <typename T>
CountBound<T> read_count_bound(const TableReader& t, std::int64_t lo, std::int64_t hi) {
  const auto read = [&](std::string_view key) -> std::optional<T> {
    const auto n = t.integer(key, lo, hi);
    return n ? std::optional<T>(static_cast<T>(*n)) : std::nullopt;
  };
  CountBound<T> b;
  b.count = read("count");
  b.min = read("min");
  b.max = read("max");
  if (b.count && (b.min || b.max)) {
    const std::string_view key = b.min ? "min" : "max";
    t.fail(key, fmt::format("{} cannot be combined with {}: give an exact {}, or min and/or max",
                            t.written(key), t.written("count"), t.written("count")));
  }
  if (b.min && b.max && *b.min > *b.max)
    t.fail("max", fmt::format("{} ({}) is more than {} ({})", t.written("min"), *b.min, t.written("max"), *b.max));
  return b;
}

template CountBound<std::uint32_t> read_count_bound(const TableReader&, std::int64_t, std::int64_t);
template CountBound<std::int64_t> read_count_bound(const TableReader&, std::int64_t, std::int64_t);

Expectation read_expect(const toml::table& table, const Problems& problems) {
  const std::size_t line = line_of(table, 1);
  const toml::node* check_node = table.get("check");
  if (check_node == nullptr)
    problems.at(line, fmt::format("missing required key \"check\" in [[expect]] (one of: {})",
                                  joined(check_names)));
  const std::size_t check_line = line_of(*check_node, line);
  if (!check_node->is_string()) problems.at(check_line, "check must be a string");
  const std::string& check = check_node->as_string()->get();
  const std::string title = fmt::format("[[expect]] with check = \"{}\"", check);
  if (check == "retransmitted")
    return read_retransmitted(TableReader(
        table, title, {"check", "segment", "from", "connection", "count", "after", "backoff"}, problems));
  if (check == "state")
    return read_state(TableReader(table, title, {"check", "side", "reaches", "ends-in", "never", "connection"}, problems));
  if (check == "reset")
    return read_reset(TableReader(table, title, {"check", "from", "count", "injected", "connection", "received-by"}, problems));
  if (check == "app")
    return read_app(TableReader(table, title, {"check", "side", "sees", "received", "sent", "exit", "output", "stale-from"}, problems));
  if (check == "timewait")
    return read_timewait(TableReader(
        table, title, {"check", "entered-by", "expires-min", "expires-max", "restarted", "connection"}, problems));
  if (check == "segments")
    return read_segments(TableReader(
        table, title, {"check", "segment", "with", "from", "connection", "count", "min", "max"},
        problems));
  if (check == "close")
    return read_close(TableReader(table, title, {"check", "segments", "connection"}, problems));
  if (check == "connections")
    return read_connections(TableReader(table, title, {"check", "count"}, problems));
  if (check == "socket-held")
    return read_socket_held(TableReader(table, title, {"check", "side", "state", "longer-than"}, problems));
  if (check == "counter")
    return read_counter(TableReader(table, title, {"check", "side", "name", "count", "min", "max"}, problems));
  problems.at(check_line, fmt::format("unknown check \"{}\" (expected one of: {})", check, joined(check_names)));
}

}  // namespace lastack::policy_toml
