#include "harness/core/record/json_fields.hpp"

#include <fmt/format.h>

#include "lastack/error.hpp"
#include "harness/core/base/hex.hpp"

namespace lastack {
namespace {

// A value as a message quotes it: short, one line, whatever bytes it holds.
std::string shown(const nlohmann::json& v) {
  std::string text = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  constexpr std::size_t max_shown = 40;
  if (text.size() > max_shown) text = text.substr(0, max_shown) + "...";
  return text;
}

}  // namespace

JsonFields::JsonFields(const nlohmann::json& object, std::string where, std::string prefix)
    : object_(object), where_(std::move(where)), prefix_(std::move(prefix)) {}

void JsonFields::fail(std::string_view what) const { throw InputError(fmt::format("{}: {}", where_, what)); }

std::string JsonFields::name(std::string_view key) const {
  return prefix_.empty() ? fmt::format("\"{}\"", key) : fmt::format("\"{}.{}\"", prefix_, key);
}

const nlohmann::json& JsonFields::raw(std::string_view key) const {
  const auto it = object_.find(key);
  if (it == object_.end()) fail(fmt::format("missing field {}", name(key)));
  return *it;
}

void JsonFields::wrong_type(std::string_view key, std::string_view wanted) const {
  fail(fmt::format("{} is {}, not {}", name(key), shown(raw(key)), wanted));
}

void JsonFields::out_of_range(std::string_view key, const std::string& min, const std::string& max) const {
  fail(fmt::format("{} is {}, not an integer from {} to {}", name(key), shown(raw(key)), min, max));
}

void JsonFields::unknown_word(std::string_view key, std::string_view word, std::string_view noun) const {
  fail(fmt::format("{} is \"{}\", not a known {}", name(key), word, noun));
}

std::string JsonFields::text(std::string_view key) const {
  const nlohmann::json& v = raw(key);
  if (!v.is_string()) wrong_type(key, "a string");
  return v.get<std::string>();
}

bool JsonFields::flag(std::string_view key) const {
  const nlohmann::json& v = raw(key);
  if (!v.is_boolean()) wrong_type(key, "true or false");
  return v.get<bool>();
}

double JsonFields::real(std::string_view key) const {
  const nlohmann::json& v = raw(key);
  if (!v.is_number()) wrong_type(key, "a number");
  return v.get<double>();
}

std::optional<Instant> JsonFields::optional_instant(std::string_view key) const {
  if (raw(key).is_null()) return std::nullopt;
  return instant(key);
}

std::vector<std::uint8_t> JsonFields::hex(std::string_view key) const {
  const std::string digits = text(key);
  HexError error;
  auto bytes = from_hex(digits, &error);
  if (bytes) return std::move(*bytes);
  if (error.odd_length) fail(fmt::format("{} has an odd number of hex digits ({})", name(key), digits.size()));
  fail(fmt::format("{} is not lowercase hex: '{}' at offset {}", name(key), digits[error.offset], error.offset));
}

JsonFields JsonFields::object(std::string_view key) const {
  const nlohmann::json& v = raw(key);
  if (!v.is_object()) wrong_type(key, "an object");
  return JsonFields(v, where_, prefix_.empty() ? std::string(key) : fmt::format("{}.{}", prefix_, key));
}

std::map<std::string, std::string> JsonFields::text_map(std::string_view key) const {
  const JsonFields inner = object(key);
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : raw(key).items()) out.emplace(k, inner.text(k));
  return out;
}

std::vector<std::string> JsonFields::text_list(std::string_view key) const {
  const nlohmann::json& v = raw(key);
  if (!v.is_array()) wrong_type(key, "an array of strings");
  std::vector<std::string> out;
  for (const auto& item : v) {
    if (!item.is_string()) wrong_type(key, "an array of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace lastack
