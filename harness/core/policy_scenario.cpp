// [scenario]: the client's and server's steps in the policy's small grammar, and run timing.
#include "harness/core/policy_scenario.hpp"

#include <vector>

#include "harness/core/error.hpp"
#include "harness/core/policy_selectors.hpp"

namespace lastack::policy_toml {

namespace {

const std::vector<std::string_view> finish_names = {"both", "client", "server"};

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

}  // namespace

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

namespace {

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

}  // namespace

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

}  // namespace lastack::policy_toml
