#pragma once
// Typed, bounds-checked access to one JSON object of an input file: the one place the trace
// reader checks that a field is present, of the right type and in range. Every failure is one
// line, "origin:line: what is wrong", thrown as InputError.
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lastack/clock.hpp"

namespace lastack {

class JsonFields {
 public:
  /// `where` starts every error ("trace.jsonl:12"); `prefix` names a nested object in them
  /// ("sysctls.client"). The object must outlive the accessor.
  JsonFields(const nlohmann::json& object, std::string where, std::string prefix = "");

  /// Where errors say the object is ("trace.jsonl:12").
  const std::string& where() const { return where_; }
  /// Throw InputError("where: what").
  [[noreturn]] void fail(std::string_view what) const;
  /// The field's name as messages write it: "\"rel_seq\"", "\"sysctls.client\"".
  std::string name(std::string_view key) const;

  /// True when the object has the field (of any type, null included).
  bool has(std::string_view key) const { return object_.find(key) != object_.end(); }
  /// The field, present but of any type (null included).
  const nlohmann::json& raw(std::string_view key) const;
  /// A string.
  std::string text(std::string_view key) const;
  /// true or false.
  bool flag(std::string_view key) const;
  /// An integer that fits T.
  template <typename T>
  T number(std::string_view key) const {
    const nlohmann::json& v = raw(key);
    if (!v.is_number_integer()) wrong_type(key, "an integer");
    using Limits = std::numeric_limits<T>;
    // nlohmann stores non-negative integers unsigned and negative ones signed.
    if (v.is_number_unsigned()) {
      const auto u = v.get<std::uint64_t>();
      if (u <= static_cast<std::uint64_t>(Limits::max())) return static_cast<T>(u);
    } else {
      const auto s = v.get<std::int64_t>();
      if (s >= static_cast<std::int64_t>(Limits::min())) return static_cast<T>(s);
    }
    out_of_range(key, std::to_string(Limits::min()), std::to_string(Limits::max()));
  }
  /// null, or an integer that fits T.
  template <typename T>
  std::optional<T> optional_number(std::string_view key) const {
    if (raw(key).is_null()) return std::nullopt;
    return number<T>(key);
  }
  /// A number, integer or not.
  double real(std::string_view key) const;
  /// Nanoseconds since the run started (a signed 64-bit integer).
  Instant instant(std::string_view key) const { return instant_from_ns(number<std::int64_t>(key)); }
  /// null, or nanoseconds since the run started.
  std::optional<Instant> optional_instant(std::string_view key) const;
  /// A word `parse` knows ("passed", "TIME_WAIT"); `noun` says what it should have been.
  template <typename E>
  E word(std::string_view key, std::optional<E> (*parse)(std::string_view), std::string_view noun) const {
    const std::string w = text(key);
    if (const auto e = parse(w)) return *e;
    unknown_word(key, w, noun);
  }
  /// Bytes written as lowercase hex.
  std::vector<std::uint8_t> hex(std::string_view key) const;
  /// A nested object, with its own accessor.
  JsonFields object(std::string_view key) const;
  /// An object whose values are all strings.
  std::map<std::string, std::string> text_map(std::string_view key) const;
  /// An array of strings.
  std::vector<std::string> text_list(std::string_view key) const;

 private:
  [[noreturn]] void out_of_range(std::string_view key, const std::string& min, const std::string& max) const;
  [[noreturn]] void wrong_type(std::string_view key, std::string_view wanted) const;
  [[noreturn]] void unknown_word(std::string_view key, std::string_view word, std::string_view noun) const;

  const nlohmann::json& object_;
  std::string where_, prefix_;
};

}  // namespace lastack
