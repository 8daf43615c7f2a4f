// Durations in policy files: strict parsing (a unit is required) and the matching spelling.
#include "lastack/duration.hpp"

#include <array>
#include <cctype>
#include <cstdint>

#include <fmt/format.h>

#include "lastack/error.hpp"

namespace lastack {

namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t nanos;
};

constexpr std::array<Unit, 4> units = {{
    {"us", 1'000},
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
}};

// Longer than any run should last; also keeps the arithmetic below far from overflow.
constexpr std::uint64_t max_millis = 24ull * 60 * 60 * 1000;

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

}  // namespace

std::chrono::milliseconds parse_duration(std::string_view text) {
  const auto bad = [&] {
    return InputError(fmt::format(
        "bad duration \"{}\" (expected a number and a unit: \"300ms\", \"1.5s\", \"200us\", \"2m\")",
        text));
  };
  std::size_t i = 0;
  std::string_view whole, fraction;
  while (i < text.size() && is_digit(text[i])) ++i;
  whole = text.substr(0, i);
  if (whole.empty()) throw bad();
  if (i < text.size() && text[i] == '.') {
    const std::size_t start = ++i;
    while (i < text.size() && is_digit(text[i])) ++i;
    fraction = text.substr(start, i - start);
    if (fraction.empty()) throw bad();
  }
  std::size_t unit_start = i;
  while (unit_start < text.size() && text[unit_start] == ' ') ++unit_start;
  const std::string_view suffix = text.substr(unit_start);
  if (suffix.empty())
    throw InputError(fmt::format(
        "duration \"{}\" has no unit (use us, ms, s or m, e.g. \"{}ms\")", text, text));
  const Unit* unit = nullptr;
  for (const Unit& u : units)
    if (u.suffix == suffix) unit = &u;
  if (unit == nullptr)
    throw InputError(fmt::format(
        "bad duration \"{}\": unknown unit \"{}\" (use us, ms, s or m)", text, suffix));

  const auto too_long = [&] {
    return InputError(fmt::format("duration \"{}\" is too long (at most 1440m)", text));
  };
  while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);
  if (whole.size() > 12) throw too_long();  // 10^12 us is already far past the maximum
  // Exact fixed-point arithmetic with 12 fraction digits; any digit beyond those rounds up.
  constexpr std::size_t scale_digits = 12;
  unsigned __int128 scaled = 0;
  for (char c : whole) scaled = scaled * 10 + static_cast<unsigned>(c - '0');
  bool beyond_scale = false;
  for (std::size_t k = 0; k < scale_digits; ++k)
    scaled = scaled * 10 + (k < fraction.size() ? static_cast<unsigned>(fraction[k] - '0') : 0u);
  for (std::size_t k = scale_digits; k < fraction.size(); ++k) beyond_scale |= fraction[k] != '0';
  unsigned __int128 ms_unit = 1'000'000;  // nanoseconds per millisecond
  for (std::size_t k = 0; k < scale_digits; ++k) ms_unit *= 10;
  const unsigned __int128 nanos_scaled = scaled * unit->nanos;
  unsigned __int128 millis = nanos_scaled / ms_unit;
  if (nanos_scaled % ms_unit != 0 || beyond_scale) ++millis;
  if (millis > max_millis) throw too_long();
  return std::chrono::milliseconds(static_cast<std::int64_t>(millis));
}

std::string format_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms != 0 && ms % 60'000 == 0) return fmt::format("{}m", ms / 60'000);
  if (ms != 0 && ms % 1'000 == 0) return fmt::format("{}s", ms / 1'000);
  return fmt::format("{}ms", ms);
}

}  // namespace lastack
