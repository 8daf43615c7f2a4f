// TOML policy files -> Policy: every key known, every value checked, every error one line.
#include "harness/core/policy_parser.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "harness/core/error.hpp"

namespace lastack {

namespace {

constexpr std::int64_t u32_max = std::numeric_limits<std::uint32_t>::max();
constexpr std::int64_t i64_max = std::numeric_limits<std::int64_t>::max();
// More copies than this would flood the link rather than test anything.
constexpr std::int64_t max_copies = 100;

std::string joined(const std::vector<std::string_view>& names) {
  return fmt::format("{}", fmt::join(names, ", "));
}

/// The key as the policy format spells it: dashes, whichever the file used.
std::string canonical_key(std::string_view key) {
  std::string out(key);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

bool is_one_line(std::string_view text) { return text.find_first_of("\r\n") == std::string_view::npos; }

/// Turns problems in one policy file into InputError("file:line: what").
class Problems {
 public:
  explicit Problems(const std::string& file) : file_(file) {}

  /// Throw the one-line error for `line`.
  [[noreturn]] void at(std::size_t line, const std::string& what) const {
    throw InputError(fmt::format("{}:{}: {}", file_, std::max<std::size_t>(line, 1), what));
  }

 private:
  const std::string& file_;
};

/// Where a key or value starts; `fallback` when toml++ recorded no position.
template <typename KeyOrNode>
std::size_t line_of(const KeyOrNode& item, std::size_t fallback) {
  const std::size_t line = item.source().begin.line;
  return line != 0 ? line : fallback;
}

/// The table's entries in the order the file wrote them (toml++ iterates in key order), so the
/// first problem reported is the first in the file.
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& table) {
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (auto&& [key, value] : table) entries.emplace_back(&key, &value);
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.first->source().begin < b.first->source().begin;
  });
  return entries;
}

/// One TOML table being read: unknown keys are rejected up front, values come out typed.
/// Keys are looked up by their dashed spelling; `ends_in` and `ends-in` are the same key.
class TableReader {
 public:
  /// `title` names the table in errors ("[[fault]]"; empty for the top level).
  TableReader(const toml::table& table, std::string title, std::vector<std::string_view> known,
              const Problems& problems)
      : title_(std::move(title)), problems_(problems), line_(line_of(table, 1)) {
    for (const auto& [key, value] : in_file_order(table)) {
      const std::string name = canonical_key(key->str());
      const std::size_t key_line = line_of(*key, line_);
      if (std::find(known.begin(), known.end(), name) == known.end())
        problems_.at(key_line, fmt::format("unknown {}key \"{}\"{} (expected one of: {})",
                                           title_.empty() ? "top-level " : "", key->str(),
                                           title_.empty() ? "" : " in " + title_, joined(known)));
      const auto [it, inserted] = entries_.try_emplace(name, Entry{std::string(key->str()), key_line, value});
      if (!inserted)
        problems_.at(key_line, fmt::format("\"{}\" and \"{}\" are the same key; give it once",
                                           it->second.written, key->str()));
    }
  }

  const std::string& title() const { return title_; }
  const Problems& problems() const { return problems_; }
  /// Line of the table itself.
  std::size_t line() const { return line_; }
  bool has(std::string_view key) const { return entries_.count(std::string(key)) != 0; }
  const toml::node* node(std::string_view key) const {
    const auto it = entries_.find(std::string(key));
    return it == entries_.end() ? nullptr : it->second.value;
  }
  /// Line of `key` (of the table when absent).
  std::size_t line(std::string_view key) const {
    const auto it = entries_.find(std::string(key));
    return it == entries_.end() ? line_ : it->second.line;
  }
  /// Line of `key`'s value, which can differ from the key's in a multi-line array.
  std::size_t value_line(const toml::node& value, std::string_view key) const {
    return line_of(value, line(key));
  }
  /// `key` as the file spelled it.
  std::string written(std::string_view key) const {
    const auto it = entries_.find(std::string(key));
    return it == entries_.end() ? std::string(key) : it->second.written;
  }

  [[noreturn]] void fail(std::string_view key, const std::string& what) const {
    problems_.at(line(key), what);
  }

  /// Fail unless `key` is present.
  void require(std::string_view key, std::string_view hint = {}) const {
    if (has(key)) return;
    problems_.at(line_, fmt::format("missing required key \"{}\"{}{}", key,
                                    title_.empty() ? "" : " in " + title_,
                                    hint.empty() ? "" : fmt::format(" ({})", hint)));
  }

  /// Fail unless at least one of `keys` is present.
  void require_one_of(const std::vector<std::string_view>& keys) const {
    for (std::string_view key : keys)
      if (has(key)) return;
    problems_.at(line_, fmt::format("{} needs at least one of: {}", title_, joined(keys)));
  }

  std::optional<std::string> string(std::string_view key) const {
    const toml::node* value = node(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) fail(key, fmt::format("{} must be a string", written(key)));
    return value->as_string()->get();
  }

  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max) const {
    const toml::node* value = node(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_integer()) fail(key, fmt::format("{} must be an integer", written(key)));
    const std::int64_t n = value->as_integer()->get();
    if (n < min) fail(key, fmt::format("{} must be at least {}", written(key), min));
    if (n > max) fail(key, fmt::format("{} must be at most {}", written(key), max));
    return n;
  }

  std::optional<bool> boolean(std::string_view key) const {
    const toml::node* value = node(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_boolean()) fail(key, fmt::format("{} must be true or false", written(key)));
    return value->as_boolean()->get();
  }

  std::optional<Millis> duration(std::string_view key) const {
    const toml::node* value = node(key);
    if (value == nullptr) return std::nullopt;
    if (value->is_integer() || value->is_floating_point()) {
      const std::string number = value->is_integer()
                                     ? std::to_string(value->as_integer()->get())
                                     : fmt::format("{}", value->as_floating_point()->get());
      fail(key, fmt::format("{} = {} has no unit: write a string with one, e.g. \"{}ms\"",
                            written(key), number, number));
    }
    if (!value->is_string())
      fail(key, fmt::format("{} must be a duration string, e.g. \"300ms\"", written(key)));
    try {
      return parse_duration(value->as_string()->get());
    } catch (const InputError& e) {
      fail(key, fmt::format("{}: {}", written(key), e.what()));
    }
  }

  /// A string naming one of a fixed set of things: `lookup` maps it, nullopt when unknown.
  template <typename T, typename Lookup>
  std::optional<T> named(std::string_view key, std::string_view kind, Lookup lookup,
                         const std::vector<std::string_view>& expected) const {
    const std::optional<std::string> text = string(key);
    if (!text) return std::nullopt;
    std::optional<T> found = lookup(*text);
    if (!found)
      fail(key, fmt::format("unknown {} \"{}\" (expected one of: {})", kind, *text, joined(expected)));
    return found;
  }

  /// A sub-table such as `until = { ... }`; `example` shows the expected shape.
  const toml::table* table(std::string_view key, std::string_view example) const {
    const toml::node* value = node(key);
    if (value == nullptr) return nullptr;
    if (!value->is_table())
      fail(key, fmt::format("{} must be a table, e.g. {}", written(key), example));
    return value->as_table();
  }

 private:
  struct Entry {
    std::string written;
    std::size_t line = 0;
    const toml::node* value = nullptr;
  };
  std::string title_;
  const Problems& problems_;
  std::size_t line_;
  std::map<std::string, Entry> entries_;
};

// ---- names ----

const std::vector<std::string_view> from_names = {"client", "server", "any"};
const std::vector<std::string_view> side_names = {"client", "server"};
const std::vector<std::string_view> finish_names = {"both", "client", "server"};
const std::vector<std::string_view> action_names = {"drop", "delay", "hold", "duplicate"};
const std::vector<std::string_view> lab_action_names = {"destroy-timewait", "inject-rst"};
const std::vector<std::string_view> check_names = {"retransmitted", "state", "reset", "app",
                                                   "timewait", "segments", "close", "connections"};

std::optional<Side> side_from_name(std::string_view name) {
  if (name == "client") return Side::client;
  if (name == "server") return Side::server;
  return std::nullopt;
}

std::optional<ActionKind> action_from_name(std::string_view name) {
  if (name == "drop") return ActionKind::drop;
  if (name == "delay") return ActionKind::delay;
  if (name == "hold") return ActionKind::hold;
  if (name == "duplicate") return ActionKind::duplicate;
  return std::nullopt;
}

std::optional<LabActionKind> lab_action_from_name(std::string_view name) {
  if (name == "destroy-timewait") return LabActionKind::destroy_timewait;
  if (name == "inject-rst") return LabActionKind::inject_rst;
  return std::nullopt;
}

std::vector<std::string_view> state_names() {
  std::vector<std::string_view> names;
  for (int s = static_cast<int>(TcpState::ESTABLISHED); s <= static_cast<int>(TcpState::NEW_SYN_RECV); ++s)
    names.push_back(state_name(static_cast<TcpState>(s)));
  return names;
}

// ---- selectors ----

const std::vector<std::string_view> selector_keys = {"segment", "from", "connection"};
constexpr std::string_view selector_example = "{ segment = \"fin\", from = \"server\" }";

std::optional<Role> read_role(const TableReader& t) {
  return t.named<Role>("segment", "segment", role_from_name, all_role_names());
}

/// `from`: "client" or "server"; "any" (or absent) leaves it unset.
std::optional<Side> read_from(const TableReader& t) {
  const auto any_side = [](std::string_view name) -> std::optional<std::optional<Side>> {
    if (name == "any") return std::optional<Side>{};
    if (auto side = side_from_name(name)) return side;
    return std::nullopt;
  };
  return t.named<std::optional<Side>>("from", "side", any_side, from_names).value_or(std::nullopt);
}

Side read_side(const TableReader& t, std::string_view key) {
  t.require(key);
  return *t.named<Side>(key, "side", side_from_name, side_names);
}

/// segment / from / connection, from whichever table carries them.
Selector read_selector(const TableReader& t) {
  Selector sel;
  sel.segment = read_role(t);
  sel.from = read_from(t);
  if (auto connection = t.integer("connection", 1, u32_max))
    sel.connection = static_cast<std::size_t>(*connection);
  return sel;
}

/// An inline selector table such as `until = { ... }` or `on = { ... }`.
Selector read_selector_table(const TableReader& parent, std::string_view key) {
  const toml::table* table = parent.table(key, selector_example);
  const TableReader t(*table, fmt::format("{} {}", parent.title(), parent.written(key)),
                      selector_keys, parent.problems());
  return read_selector(t);
}

// ---- scenario ----

struct StepGrammar {
  std::string_view word;
  StepKind kind;
  enum class Argument { none, bytes, duration } argument;
};

constexpr StepGrammar step_grammar[] = {
    {"connect", StepKind::connect, StepGrammar::Argument::none},
    {"accept", StepKind::accept, StepGrammar::Argument::none},
    {"send", StepKind::send, StepGrammar::Argument::bytes},
    {"recv", StepKind::recv, StepGrammar::Argument::bytes},
    {"recv-until-eof", StepKind::recv_until_eof, StepGrammar::Argument::none},
    {"shutdown-write", StepKind::shutdown_write, StepGrammar::Argument::none},
    {"close", StepKind::close, StepGrammar::Argument::none},
    {"abort", StepKind::abort, StepGrammar::Argument::none},
    {"sleep", StepKind::sleep, StepGrammar::Argument::duration},
    {"exit", StepKind::exit, StepGrammar::Argument::none},
};

std::vector<std::string_view> step_spellings() {
  std::vector<std::string_view> out;
  for (const StepGrammar& g : step_grammar) {
    if (g.kind == StepKind::send) out.push_back("send N");
    else if (g.kind == StepKind::recv) out.push_back("recv N");
    else if (g.kind == StepKind::sleep) out.push_back("sleep D");
    else out.push_back(g.word);
  }
  return out;
}

std::vector<std::string_view> words_of(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

std::optional<std::uint64_t> positive_count(std::string_view digits) {
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n == 0 ? std::nullopt : std::optional<std::uint64_t>(n);
}

Step parse_step(const std::string& text, std::size_t line, const Problems& problems) {
  const std::vector<std::string_view> words = words_of(text);
  const StepGrammar* grammar = nullptr;
  for (const StepGrammar& g : step_grammar)
    if (!words.empty() && words[0] == g.word) grammar = &g;
  if (grammar == nullptr)
    problems.at(line, fmt::format("unknown step \"{}\" (expected one of: {})", text,
                                  joined(step_spellings())));
  Step step;
  step.kind = grammar->kind;
  step.line = line;
  step.text = text;
  switch (grammar->argument) {
    case StepGrammar::Argument::none:
      if (words.size() != 1)
        problems.at(line, fmt::format("step \"{}\": {} takes no argument", text, grammar->word));
      break;
    case StepGrammar::Argument::bytes: {
      const auto bytes = words.size() == 2 ? positive_count(words[1]) : std::nullopt;
      if (!bytes)
        problems.at(line, fmt::format("step \"{}\": {} needs one positive byte count, e.g. \"{} 1000\"",
                                      text, grammar->word, grammar->word));
      step.bytes = *bytes;
      break;
    }
    case StepGrammar::Argument::duration:
      if (words.size() != 2)
        problems.at(line, fmt::format("step \"{}\": sleep needs one duration, e.g. \"sleep 50ms\"", text));
      try {
        step.duration = parse_duration(words[1]);
      } catch (const InputError& e) {
        problems.at(line, fmt::format("step \"{}\": {}", text, e.what()));
      }
      break;
  }
  return step;
}

/// `client` or `server`: a non-empty list of steps opening with connect / accept.
std::vector<Step> read_steps(const TableReader& t, Side side) {
  const std::string_view key = side_name(side);
  const std::string_view opening = side == Side::client ? "connect" : "accept";
  const StepKind own = side == Side::client ? StepKind::connect : StepKind::accept;
  const StepKind other = side == Side::client ? StepKind::accept : StepKind::connect;
  t.require(key);
  const toml::node* value = t.node(key);
  const std::string shape = fmt::format("{} must be an array of steps, e.g. [\"{}\", \"close\"]",
                                        t.written(key), opening);
  if (!value->is_array()) t.fail(key, shape);
  const toml::array& array = *value->as_array();
  if (array.empty()) t.fail(key, fmt::format("{} has no steps (it must start with \"{}\")", t.written(key), opening));

  std::vector<Step> steps;
  for (const toml::node& element : array) {
    const std::size_t line = t.value_line(element, key);
    if (!element.is_string()) t.problems().at(line, shape);
    Step step = parse_step(element.as_string()->get(), line, t.problems());
    if (steps.empty() && step.kind != own)
      t.problems().at(line, fmt::format("{} must start with \"{}\" (it starts with \"{}\")", key,
                                        opening, step.text));
    if (step.kind == other)
      t.problems().at(line, fmt::format("{} step \"{}\": only the {} does that", key, step.text,
                                        side_name(peer_of(side))));
    if (!steps.empty() && steps.back().kind == StepKind::exit)
      t.problems().at(line, fmt::format("{} step \"{}\" comes after \"exit\" and would never run",
                                        key, step.text));
    steps.push_back(std::move(step));
  }
  return steps;
}

Scenario read_scenario(const toml::table& table, const Problems& problems) {
  const TableReader t(table, "[scenario]", {"client", "server", "port", "settle", "timeout", "finish"},
                      problems);
  Scenario scenario;
  scenario.client = read_steps(t, Side::client);
  scenario.server = read_steps(t, Side::server);
  if (auto port = t.integer("port", 1, 65535)) scenario.port = static_cast<std::uint16_t>(*port);
  if (auto settle = t.duration("settle")) scenario.settle = *settle;
  if (auto timeout = t.duration("timeout")) {
    if (timeout->count() == 0) t.fail("timeout", fmt::format("{} must be more than 0ms", t.written("timeout")));
    scenario.timeout = *timeout;
  }
  const auto finish_side = [](std::string_view name) -> std::optional<std::optional<Side>> {
    if (name == "both") return std::optional<Side>{};
    if (auto side = side_from_name(name)) return side;
    return std::nullopt;
  };
  scenario.finish_with =
      t.named<std::optional<Side>>("finish", "finish", finish_side, finish_names).value_or(std::nullopt);
  return scenario;
}

// ---- sysctls ----

bool is_setting_name(std::string_view key) {
  if (key.empty() || key.back() == '.') return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

struct SysctlSetting {
  std::string value;
  std::size_t line = 0;
};
using SysctlSettings = std::map<std::string, SysctlSetting>;

/// Collect one [sysctl.X] table, flattening unquoted dotted keys (net.ipv4.x = 1).
void collect_sysctls(const toml::table& table, const std::string& prefix, const std::string& where,
                     SysctlSettings& out, const Problems& problems) {
  for (const auto& [key, value] : in_file_order(table)) {
    const std::string name = prefix.empty() ? std::string(key->str()) : prefix + "." + std::string(key->str());
    const std::size_t line = line_of(*key, line_of(table, 1));
    if (const toml::table* nested = value->as_table()) {
      collect_sysctls(*nested, name, where, out, problems);
      continue;
    }
    if (name.rfind("net.", 0) != 0)
      problems.at(line, fmt::format("sysctl \"{}\" is not per-namespace: only net.* keys can be set", name));
    if (name.find('/') != std::string::npos || name.find("..") != std::string::npos)
      problems.at(line, fmt::format("sysctl \"{}\" must not contain \"/\" or \"..\"", name));
    if (!is_setting_name(name))
      problems.at(line, fmt::format("sysctl \"{}\" is not a setting name (letters, digits, '_' and '-' "
                                    "between dots)", name));
    std::string setting;
    if (value->is_integer()) {
      setting = std::to_string(value->as_integer()->get());
    } else if (value->is_string()) {
      setting = value->as_string()->get();
      if (setting.empty()) problems.at(line, fmt::format("sysctl \"{}\" is set to an empty string", name));
      if (!is_one_line(setting)) problems.at(line, fmt::format("sysctl \"{}\" value must be one line", name));
    } else {
      problems.at(line, fmt::format("sysctl \"{}\" must be set to an integer or a string", name));
    }
    if (!out.emplace(name, SysctlSetting{setting, line}).second)
      problems.at(line, fmt::format("sysctl \"{}\" is set twice in {}", name, where));
  }
}

void read_sysctls(const TableReader& root, Scenario& scenario, const Problems& problems) {
  const toml::table* sysctl =
      root.table("sysctl", "[sysctl.client] \"net.ipv4.tcp_fin_timeout\" = 5");
  if (sysctl == nullptr) return;
  const TableReader t(*sysctl, "[sysctl]", {"client", "server", "both"}, problems);
  const auto read = [&](std::string_view key) {
    SysctlSettings settings;
    const toml::table* table = t.table(key, fmt::format("[sysctl.{}] \"net.ipv4.tcp_fin_timeout\" = 5", key));
    if (table != nullptr) collect_sysctls(*table, "", fmt::format("[sysctl.{}]", key), settings, problems);
    return settings;
  };
  const SysctlSettings client = read("client"), server = read("server"), both = read("both");
  for (const auto& settings : {client, server, both})
    for (const auto& [name, setting] : settings) scenario.sysctl_lines.emplace(name, setting.line);
  for (const auto& [name, setting] : client) scenario.client_sysctls.emplace(name, setting.value);
  for (const auto& [name, setting] : server) scenario.server_sysctls.emplace(name, setting.value);
  // A setting in [sysctl.both] may not also be set per side: which one wins would be a guess.
  for (const auto& [name, setting] : both) {
    for (Side side : {Side::client, Side::server}) {
      auto& own = side == Side::client ? scenario.client_sysctls : scenario.server_sysctls;
      if (!own.emplace(name, setting.value).second)
        problems.at(setting.line, fmt::format("sysctl \"{}\" is set in both [sysctl.both] and "
                                              "[sysctl.{}]", name, side_name(side)));
    }
  }
}

// ---- faults and lab actions ----

/// `[[key]]` tables; a single `[key]` table (or anything else) is an error.
std::vector<const toml::table*> tables_of(const TableReader& root, std::string_view key) {
  std::vector<const toml::table*> tables;
  const toml::node* value = root.node(key);
  if (value == nullptr) return tables;
  const std::string shape = fmt::format("{} must be an array of tables: write [[{}]]", root.written(key), key);
  if (!value->is_array()) root.fail(key, shape);
  for (const toml::node& element : *value->as_array()) {
    if (!element.is_table()) root.problems().at(root.value_line(element, key), shape);
    tables.push_back(element.as_table());
  }
  return tables;
}

FaultRule read_fault(const toml::table& table, const Problems& problems) {
  const TableReader t(table, "[[fault]]",
                      {"segment", "from", "connection", "nth", "count", "every", "action", "delay",
                       "until", "deadline", "copies"},
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

  t.require("action", fmt::format("one of: {}", joined(action_names)));
  rule.action = *t.named<ActionKind>("action", "action", action_from_name, action_names);
  const auto only_with = [&](std::string_view key, ActionKind action, std::string_view action_text) {
    if (t.has(key) && rule.action != action)
      t.fail(key, fmt::format("{} is only allowed with action = \"{}\"", t.written(key), action_text));
  };
  only_with("delay", ActionKind::delay, "delay");
  only_with("until", ActionKind::hold, "hold");
  only_with("deadline", ActionKind::hold, "hold");
  only_with("copies", ActionKind::duplicate, "duplicate");

  switch (rule.action) {
    case ActionKind::drop: break;
    case ActionKind::delay:
      t.require("delay", "action = \"delay\" needs it, e.g. delay = \"300ms\"");
      rule.delay = *t.duration("delay");
      if (rule.delay.count() == 0) t.fail("delay", fmt::format("{} must be more than 0ms", t.written("delay")));
      break;
    case ActionKind::hold:
      if (t.has("until")) rule.until = read_selector_table(t, "until");
      rule.deadline = t.duration("deadline").value_or(Millis{0});
      break;
    case ActionKind::duplicate:
      rule.copies = static_cast<std::uint32_t>(t.integer("copies", 1, max_copies).value_or(1));
      break;
  }
  return rule;
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

// ---- expectations ----

std::optional<std::uint32_t> read_count(const TableReader& t) {
  const auto count = t.integer("count", 0, u32_max);
  return count ? std::optional<std::uint32_t>(static_cast<std::uint32_t>(*count)) : std::nullopt;
}

RetransmittedExpect read_retransmitted(const TableReader& t) {
  RetransmittedExpect e;
  e.line = t.line();
  t.require("segment");
  e.segment = read_selector(t);
  e.count = read_count(t);
  if (const toml::node* after = t.node("after"); after != nullptr && after->value<std::string>() == "rto")
    e.after_rto = true;
  else
    e.after = t.duration("after");
  e.backoff = t.boolean("backoff").value_or(false);
  return e;
}

StateExpect read_state(const TableReader& t) {
  StateExpect e;
  e.line = t.line();
  e.side = read_side(t, "side");
  t.require_one_of({"reaches", "ends-in", "never"});
  const auto state = [&](std::string_view key) {
    return t.named<TcpState>(key, "state", state_from_name, state_names());
  };
  e.reaches = state("reaches");
  e.ends_in = state("ends-in");
  e.never = state("never");
  return e;
}

ResetExpect read_reset(const TableReader& t) {
  ResetExpect e;
  e.line = t.line();
  e.from = read_from(t);
  e.count = read_count(t);
  e.injected = t.boolean("injected").value_or(false);  // lastack's inject-rst RSTs count too
  return e;
}

/// "eof", "ok", or an errno name: ECONNRESET, ETIMEDOUT, ...
bool is_app_outcome(std::string_view sees) {
  if (sees == "eof" || sees == "ok") return true;
  return sees.size() >= 2 && sees[0] == 'E' && std::all_of(sees.begin() + 1, sees.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

AppExpect read_app(const TableReader& t) {
  AppExpect e;
  e.line = t.line();
  e.side = read_side(t, "side");
  t.require_one_of({"sees", "received", "sent"});
  e.sees = t.string("sees");
  if (e.sees && !is_app_outcome(*e.sees))
    t.fail("sees", fmt::format("unknown outcome \"{}\" for {} (expected eof, ok or an errno name such "
                               "as ECONNRESET)", *e.sees, t.written("sees")));
  if (auto received = t.integer("received", 0, i64_max)) e.received = static_cast<std::uint64_t>(*received);
  if (auto sent = t.integer("sent", 0, i64_max)) e.sent = static_cast<std::uint64_t>(*sent);
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
    std::vector<Side> sides;
    for (const toml::node& element : *value->as_array()) {
      const std::size_t line = t.value_line(element, "entered-by");
      if (!element.is_string()) t.problems().at(line, shape);
      const std::string& name = element.as_string()->get();
      const auto side = side_from_name(name);
      if (!side)
        t.problems().at(line, fmt::format("unknown side \"{}\" (expected one of: {})", name, joined(side_names)));
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
  return e;
}

SegmentsExpect read_segments(const TableReader& t) {
  SegmentsExpect e;
  e.line = t.line();
  t.require("segment", "the role to count, e.g. segment = \"syn-ack\"");
  e.segment = read_selector(t);
  e.with = t.named<Role>("with", "segment", role_from_name, all_role_names());
  t.require_one_of({"count", "min", "max"});
  e.count = read_count(t);
  const auto bound = [&](std::string_view key) -> std::optional<std::uint32_t> {
    const auto n = t.integer(key, 0, u32_max);
    return n ? std::optional<std::uint32_t>(static_cast<std::uint32_t>(*n)) : std::nullopt;
  };
  e.min = bound("min");
  e.max = bound("max");
  if (e.count && (e.min || e.max)) {
    const std::string_view key = e.min ? "min" : "max";
    t.fail(key, fmt::format("{} cannot be combined with {}: give an exact {}, or min and/or max",
                            t.written(key), t.written("count"), t.written("count")));
  }
  if (e.min && e.max && *e.min > *e.max)
    t.fail("max", fmt::format("{} ({}) is more than {} ({})", t.written("min"), *e.min,
                              t.written("max"), *e.max));
  return e;
}

CloseExpect read_close(const TableReader& t) {
  CloseExpect e;
  e.line = t.line();
  t.require("segments", "how many segments from the first FIN through the final ACK, e.g. segments = 4");
  e.segments = static_cast<std::uint32_t>(*t.integer("segments", 1, u32_max));
  if (auto connection = t.integer("connection", 1, u32_max))
    e.connection = static_cast<std::size_t>(*connection);
  return e;
}

ConnectionsExpect read_connections(const TableReader& t) {
  ConnectionsExpect e;
  e.line = t.line();
  t.require("count", "how many connections appear on the wire, e.g. count = 1");
  e.count = static_cast<std::uint32_t>(*t.integer("count", 1, u32_max));
  return e;
}

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
    return read_state(TableReader(table, title, {"check", "side", "reaches", "ends-in", "never"}, problems));
  if (check == "reset")
    return read_reset(TableReader(table, title, {"check", "from", "count", "injected"}, problems));
  if (check == "app")
    return read_app(TableReader(table, title, {"check", "side", "sees", "received", "sent"}, problems));
  if (check == "timewait")
    return read_timewait(TableReader(
        table, title, {"check", "entered-by", "expires-min", "expires-max", "restarted"}, problems));
  if (check == "segments")
    return read_segments(TableReader(
        table, title, {"check", "segment", "with", "from", "connection", "count", "min", "max"},
        problems));
  if (check == "close")
    return read_close(TableReader(table, title, {"check", "segments", "connection"}, problems));
  if (check == "connections")
    return read_connections(TableReader(table, title, {"check", "count"}, problems));
  problems.at(check_line, fmt::format("unknown check \"{}\" (expected one of: {})", check, joined(check_names)));
}

// ---- the whole file ----

std::string read_text(const TableReader& t, std::string_view key, bool one_line) {
  const std::string text = t.string(key).value_or("");
  if (one_line && !is_one_line(text)) t.fail(key, fmt::format("{} must be one line", t.written(key)));
  return text;
}

}  // namespace

Policy parse_policy(std::string_view toml_text, const std::string& file) {
  const Problems problems(file);
  toml::table root_table;
  try {
    root_table = toml::parse(toml_text, std::string_view(file));
  } catch (const toml::parse_error& e) {
    std::string what(e.description());
    std::replace(what.begin(), what.end(), '\n', ' ');
    problems.at(e.source().begin.line, what);
  }
  const TableReader root(root_table, "",
                         {"name", "summary", "explanation", "seed", "scenario", "sysctl", "fault",
                          "lab", "expect"},
                         problems);
  Policy policy;
  policy.file = file;
  root.require("name");
  policy.name = read_text(root, "name", true);
  if (policy.name.empty()) root.fail("name", "name must not be empty");
  policy.summary = read_text(root, "summary", true);
  policy.explanation = read_text(root, "explanation", false);
  policy.seed = read_text(root, "seed", false);

  if (!root.has("scenario")) problems.at(1, "missing required table [scenario]");
  policy.scenario = read_scenario(*root.table("scenario", "[scenario] client = [\"connect\"] ..."), problems);
  read_sysctls(root, policy.scenario, problems);

  for (const toml::table* table : tables_of(root, "fault")) policy.faults.push_back(read_fault(*table, problems));
  for (const toml::table* table : tables_of(root, "lab")) policy.lab.push_back(read_lab(*table, problems));
  for (const toml::table* table : tables_of(root, "expect")) policy.expect.push_back(read_expect(*table, problems));
  return policy;
}

Step parse_agent_step(const std::string& text, const std::string& file, std::size_t line) {
  const Problems problems(file);
  return parse_step(text, line, problems);
}

}  // namespace lastack
