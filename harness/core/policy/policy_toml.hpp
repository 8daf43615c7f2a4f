#pragma once
// Reading one policy file's TOML tables: typed values, unknown keys rejected, every problem one
// line "file:line: what". Shared by the policy parser's parts (policy_parser.cpp and friends).
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "lastack/duration.hpp"
#include "lastack/policy.hpp"  // Millis

namespace lastack::policy_toml {

inline constexpr std::int64_t u32_max = std::numeric_limits<std::uint32_t>::max();
inline constexpr std::int64_t i64_max = std::numeric_limits<std::int64_t>::max();

/// "a, b, c": the names a value could have been, for error messages.
std::string joined(const std::vector<std::string_view>& names);

/// True when `text` holds no line break.
bool is_one_line(std::string_view text);

/// Turns problems in one policy file into InputError("file:line: what").
class Problems {
 public:
  explicit Problems(const std::string& file) : file_(file) {}

  /// Throw InputError("file:line: what"); line 0 (unknown) is reported as line 1.
  [[noreturn]] void at(std::size_t line, const std::string& what) const;

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
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& table);

/// One TOML table being read: unknown keys are rejected up front, values come out typed.
/// Keys are looked up by their dashed spelling; `ends_in` and `ends-in` are the same key.
class TableReader {
 public:
  /// Index `table`'s keys; throws at the first key not in `known` or given twice (`a_b`, `a-b`).
  /// `title` names the table in errors ("[[fault]]"; empty for the top level).
  TableReader(const toml::table& table, std::string title, std::vector<std::string_view> known,
              const Problems& problems);

  /// The table's name in errors.
  const std::string& title() const { return title_; }
  /// Where this table's errors go.
  const Problems& problems() const { return problems_; }
  /// Line of the table itself.
  std::size_t line() const { return line_; }
  /// True when the file gave `key` (dashed spelling).
  bool has(std::string_view key) const { return entries_.count(std::string(key)) != 0; }
  /// `key`'s value, nullptr when absent.
  const toml::node* node(std::string_view key) const;
  /// Line of `key` (of the table when absent).
  std::size_t line(std::string_view key) const;
  /// Line of `key`'s value, which can differ from the key's in a multi-line array.
  std::size_t value_line(const toml::node& value, std::string_view key) const {
    return line_of(value, line(key));
  }
  /// `key` as the file spelled it.
  std::string written(std::string_view key) const;

  /// Throw `what` at `key`'s line.
  [[noreturn]] void fail(std::string_view key, const std::string& what) const { problems_.at(line(key), what); }

  /// Fail unless `key` is present; `hint` says what it should hold.
  void require(std::string_view key, std::string_view hint = {}) const;

  /// Fail unless at least one of `keys` is present.
  void require_one_of(const std::vector<std::string_view>& keys) const;

  /// `key` as a string; nullopt when absent; fails when it is not a string.
  std::optional<std::string> string(std::string_view key) const;

  /// `key` as an integer in [min, max]; nullopt when absent.
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max) const;

  /// `key` as a probability P, 0 < P <= 1 (an integer or a float); nullopt when absent.
  std::optional<double> probability(std::string_view key) const;

  /// `key` as true/false; nullopt when absent.
  std::optional<bool> boolean(std::string_view key) const;

  /// `key` as a duration string with a unit ("300ms"); a bare number is an error.
  std::optional<Millis> duration(std::string_view key) const;

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

  /// A sub-table such as `until = { ... }`; `example` shows the expected shape; nullptr when absent.
  const toml::table* table(std::string_view key, std::string_view example) const;

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

/// The `[[key]]` tables under `root`; a single `[key]` table (or anything else) is an error.
std::vector<const toml::table*> tables_of(const TableReader& root, std::string_view key);

/// `key` as text ("" when absent); `one_line` rejects line breaks.
std::string read_text(const TableReader& t, std::string_view key, bool one_line);

}  // namespace lastack::policy_toml
