// [link] tables and --link: one direction's settings read once, then overridden per direction.
#include "harness/core/policy/policy_link.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

#include "lastack/error.hpp"

namespace lastack::policy_toml {

namespace {

const std::vector<std::string_view> link_keys = {"latency", "jitter", "reorder", "rate", "queue", "loss", "duplicate"};
constexpr std::string_view to_server = "client-to-server";
constexpr std::string_view to_client = "server-to-client";
// With a rate and no queue given: tc's tbf has no default, 64 KiB is a small router's buffer.
constexpr std::uint64_t default_queue_bytes = 64 * 1024;

/// "1.5" then a unit: the number (finite, > 0) and the unit's text.
std::pair<double, std::string_view> number_and_unit(std::string_view text, std::string_view example) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) != 0 || text[i] == '.')) ++i;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + i, value);
  if (i == 0 || ec != std::errc{} || end != text.data() + i || !std::isfinite(value) || !(value > 0))
    throw InputError(fmt::format("\"{}\" is not a positive number with a unit, e.g. \"{}\"", text, example));
  return {value, text.substr(i)};
}

std::uint64_t scaled(double value, double unit, std::string_view text) {
  const double v = std::round(value * unit);
  if (v < 1 || v > 1e18) throw InputError(fmt::format("\"{}\" is out of range", text));
  return static_cast<std::uint64_t>(v);
}

}  // namespace

std::uint64_t parse_rate(std::string_view text) {
  const auto [value, unit] = number_and_unit(text, "8mbit");
  if (unit == "bit") return scaled(value, 1, text);
  if (unit == "kbit") return scaled(value, 1e3, text);
  if (unit == "mbit") return scaled(value, 1e6, text);
  if (unit == "gbit") return scaled(value, 1e9, text);
  throw InputError(fmt::format("\"{}\": unknown rate unit \"{}\" (expected bit, kbit, mbit or gbit per second)", text, unit));
}

std::uint64_t parse_size(std::string_view text) {
  const auto [value, unit] = number_and_unit(text, "64kb");
  if (unit == "b") return scaled(value, 1, text);
  if (unit == "kb") return scaled(value, 1024, text);
  if (unit == "mb") return scaled(value, 1024.0 * 1024, text);
  throw InputError(fmt::format("\"{}\": unknown size unit \"{}\" (expected b, kb or mb)", text, unit));
}

namespace {

/// The keys `t` gives, over `d` (the direction's values so far).
void read_direction(const TableReader& t, LinkDirection& d) {
  if (const auto v = t.duration("latency")) d.latency = *v;
  if (const auto v = t.duration("jitter")) d.jitter = *v;
  if (const auto v = t.boolean("reorder")) d.reorder = *v;
  const auto with_unit = [&t](std::string_view key, auto parse) -> std::optional<std::uint64_t> {
    const auto text = t.string(key);
    if (!text) return std::nullopt;
    try {
      return parse(*text);
    } catch (const InputError& e) {
      t.fail(key, fmt::format("{}: {}", t.written(key), e.what()));
    }
  };
  if (const auto v = with_unit("rate", parse_rate)) d.rate = *v;
  if (t.has("queue")) {
    const toml::node* q = t.node("queue");
    d.queue_bytes.reset();
    d.queue_segments.reset();
    if (q->is_integer()) d.queue_segments = static_cast<std::uint32_t>(*t.integer("queue", 1, u32_max));
    else if (q->is_string()) d.queue_bytes = with_unit("queue", parse_size);
    else t.fail("queue", fmt::format("{} must be a size (\"64kb\") or a number of segments (100)", t.written("queue")));
  }
  if (const auto v = t.probability("loss")) d.loss = *v;
  if (const auto v = t.probability("duplicate")) d.duplicate = *v;
}

/// What makes no sense in one direction, at `t`'s keys (or its line).
void check_direction(const TableReader& t, const LinkDirection& d, std::string_view name) {
  if (d.reorder && d.jitter.count() == 0)
    t.problems().at(t.line("reorder"), fmt::format("[link] {}: reorder = true needs a jitter to reorder by", name));
  if ((d.queue_bytes || d.queue_segments) && !d.rate)
    t.problems().at(t.line("queue"), fmt::format("[link] {}: a queue needs a rate (it holds what the rate cannot send yet)", name));
}

void finish(LinkDirection& d) {
  if (d.rate && !d.queue_bytes && !d.queue_segments) d.queue_bytes = default_queue_bytes;
}

}  // namespace

std::optional<Link> read_link(const TableReader& root) {
  const toml::table* table = root.table("link", "[link] latency = \"50ms\"");
  if (table == nullptr) return std::nullopt;
  std::vector<std::string_view> known = link_keys;
  known.push_back(to_server);
  known.push_back(to_client);
  const TableReader t(*table, "[link]", known, root.problems());
  Link link;
  link.line = t.line();
  LinkDirection both;
  read_direction(t, both);
  for (const Side side : {Side::client, Side::server}) {
    const std::string_view key = side == Side::client ? to_server : to_client;
    LinkDirection d = both;
    if (const toml::table* sub = t.table(key, "[link.client-to-server] latency = \"50ms\"")) {
      const TableReader s(*sub, fmt::format("[link.{}]", key), link_keys, root.problems());
      read_direction(s, d);
      check_direction(s, d, key);
    } else {
      check_direction(t, d, key);
    }
    finish(d);
    link.from[side] = d;
  }
  return link;
}

Link parse_link_spec(std::string_view spec) {
  // The same keys and values as [link], as TOML text: one reader, the same checks and words.
  std::string text = "[link]\n";
  std::size_t start = 0;
  while (start <= spec.size()) {
    const std::size_t comma = std::min(spec.find(',', start), spec.size());
    const std::string_view item = spec.substr(start, comma - start);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0)
      throw InputError(fmt::format("--link: \"{}\" is not key=value (e.g. latency=50ms,jitter=10ms)", item));
    const std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key.find_first_not_of("abcdefghijklmnopqrstuvwxyz-_") != std::string_view::npos || value.empty() ||
        value.find_first_of("\"\\\n") != std::string_view::npos)
      throw InputError(fmt::format("--link: \"{}\" is not key=value", item));
    const bool bare = value == "true" || value == "false" ||
                      value.find_first_not_of("0123456789.") == std::string_view::npos;
    text += bare ? fmt::format("{} = {}\n", key, value) : fmt::format("{} = \"{}\"\n", key, value);
    start = comma + 1;
  }
  const std::string file = "--link";
  const Problems problems(file);
  try {
    const toml::table root_table = toml::parse(text, std::string_view(file));
    const TableReader root(root_table, "", {"link"}, problems);
    Link link = *read_link(root);
    link.line = 0;
    return link;
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("--link {}: {}", spec, e.description()));
  } catch (const InputError& e) {
    // "--link:2: what": the line is of the TOML made from the option, which the user never saw.
    std::string what = e.what();
    if (const auto colon = what.find(": "); what.rfind("--link:", 0) == 0 && colon != std::string::npos)
      what = what.substr(colon + 2);
    throw InputError(fmt::format("--link {}: {}", spec, what));
  }
}

}  // namespace lastack::policy_toml
