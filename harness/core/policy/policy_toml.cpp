// TOML tables of a policy file, read strictly: every key known, every value typed, errors one line.
#include "harness/core/policy/policy_toml.hpp"

#include <algorithm>

#include "lastack/error.hpp"

namespace lastack::policy_toml {

namespace {

/// The key as the policy format spells it: dashes, whichever the file used.
std::string canonical_key(std::string_view key) {
  std::string out(key);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

}  // namespace

std::string joined(const std::vector<std::string_view>& names) {
  return fmt::format("{}", fmt::join(names, ", "));
}

bool is_one_line(std::string_view text) { return text.find_first_of("\r\n") == std::string_view::npos; }

void Problems::at(std::size_t line, const std::string& what) const {
  throw InputError(fmt::format("{}:{}: {}", file_, std::max<std::size_t>(line, 1), what));
}

std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& table) {
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (auto&& [key, value] : table) entries.emplace_back(&key, &value);
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.first->source().begin < b.first->source().begin;
  });
  return entries;
}

TableReader::TableReader(const toml::table& table, std::string title, std::vector<std::string_view> known,
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

const toml::node* TableReader::node(std::string_view key) const {
  const auto it = entries_.find(std::string(key));
  return it == entries_.end() ? nullptr : it->second.value;
}

std::size_t TableReader::line(std::string_view key) const {
  const auto it = entries_.find(std::string(key));
  return it == entries_.end() ? line_ : it->second.line;
}

std::string TableReader::written(std::string_view key) const {
  const auto it = entries_.find(std::string(key));
  return it == entries_.end() ? std::string(key) : it->second.written;
}

void TableReader::require(std::string_view key, std::string_view hint) const {
  if (has(key)) return;
  problems_.at(line_, fmt::format("missing required key \"{}\"{}{}", key,
                                  title_.empty() ? "" : " in " + title_,
                                  hint.empty() ? "" : fmt::format(" ({})", hint)));
}

void TableReader::require_one_of(const std::vector<std::string_view>& keys) const {
  for (std::string_view key : keys)
    if (has(key)) return;
  problems_.at(line_, fmt::format("{} needs at least one of: {}", title_, joined(keys)));
}

std::optional<std::string> TableReader::string(std::string_view key) const {
  const toml::node* value = node(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) fail(key, fmt::format("{} must be a string", written(key)));
  return value->as_string()->get();
}

std::optional<std::int64_t> TableReader::integer(std::string_view key, std::int64_t min, std::int64_t max) const {
  const toml::node* value = node(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_integer()) fail(key, fmt::format("{} must be an integer", written(key)));
  const std::int64_t n = value->as_integer()->get();
  if (n < min) fail(key, fmt::format("{} must be at least {}", written(key), min));
  if (n > max) fail(key, fmt::format("{} must be at most {}", written(key), max));
  return n;
}

std::optional<double> TableReader::probability(std::string_view key) const {
  const toml::node* value = node(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_integer() && !value->is_floating_point())
    fail(key, fmt::format("{} must be a number more than 0 and at most 1, e.g. 0.1", written(key)));
  const double p = value->is_integer() ? static_cast<double>(value->as_integer()->get()) : value->as_floating_point()->get();
  // !(p > 0) also refuses NaN, which TOML can spell.
  if (!(p > 0) || p > 1) fail(key, fmt::format("{} = {} must be more than 0 and at most 1", written(key), p));
  return p;
}

std::optional<bool> TableReader::boolean(std::string_view key) const {
  const toml::node* value = node(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) fail(key, fmt::format("{} must be true or false", written(key)));
  return value->as_boolean()->get();
}

std::optional<Millis> TableReader::duration(std::string_view key) const {
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

const toml::table* TableReader::table(std::string_view key, std::string_view example) const {
  const toml::node* value = node(key);
  if (value == nullptr) return nullptr;
  if (!value->is_table())
    fail(key, fmt::format("{} must be a table, e.g. {}", written(key), example));
  return value->as_table();
}

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

std::string read_text(const TableReader& t, std::string_view key, bool one_line) {
  const std::string text = t.string(key).value_or("");
  if (one_line && !is_one_line(text)) t.fail(key, fmt::format("{} must be one line", t.written(key)));
  return text;
}

}  // namespace lastack::policy_toml
