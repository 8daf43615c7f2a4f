// [scenario]: the client's and server's steps in the policy's small grammar, and run timing.
#include "harness/core/policy/policy_scenario.hpp"

#include <algorithm>
#include <vector>

#include "lastack/error.hpp"
#include "harness/core/policy/policy_selectors.hpp"

namespace lastack::policy_toml {

namespace {

const std::vector<std::string_view> finish_names = {"both", "client", "server"};

struct StepGrammar {
  std::string_view word;
  StepKind kind;
  enum class Argument { none, bytes, duration, port, connect, exchange } argument;
};

constexpr StepGrammar step_grammar[] = {
    {"connect", StepKind::connect, StepGrammar::Argument::connect},
    {"bind", StepKind::bind, StepGrammar::Argument::port},
    {"accept", StepKind::accept, StepGrammar::Argument::none},
    {"send", StepKind::send, StepGrammar::Argument::bytes},
    {"recv", StepKind::recv, StepGrammar::Argument::bytes},
    {"exchange", StepKind::exchange, StepGrammar::Argument::exchange},
    {"answer", StepKind::answer, StepGrammar::Argument::exchange},
    {"recv-until-eof", StepKind::recv_until_eof, StepGrammar::Argument::none},
    {"shutdown-write", StepKind::shutdown_write, StepGrammar::Argument::none},
    {"close", StepKind::close, StepGrammar::Argument::none},
    {"abort", StepKind::abort, StepGrammar::Argument::none},
    {"sleep", StepKind::sleep, StepGrammar::Argument::duration},
    {"exit", StepKind::exit, StepGrammar::Argument::none},
    {"nodelay", StepKind::nodelay, StepGrammar::Argument::none},
};

std::vector<std::string_view> step_spellings() {
  std::vector<std::string_view> out;
  for (const StepGrammar& g : step_grammar) {
    if (g.kind == StepKind::send) out.push_back("send N");
    else if (g.kind == StepKind::recv) out.push_back("recv N");
    else if (g.kind == StepKind::sleep) out.push_back("sleep D");
    else if (g.kind == StepKind::bind) out.push_back("bind PORT");
    else if (g.kind == StepKind::connect) out.push_back("connect [PORT] [within D]");
    else if (g.kind == StepKind::exchange) out.push_back("exchange N by C");
    else if (g.kind == StepKind::answer) out.push_back("answer N by C");
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

std::optional<std::uint16_t> port_number(std::string_view digits) {
  const auto n = positive_count(digits);
  if (!n || *n > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(*n);
}

// connect [PORT] [within D]
void parse_connect(Step& step, const std::vector<std::string_view>& words, const std::string& text,
                   std::size_t line, const Problems& problems) {
  std::size_t i = 1;
  if (i < words.size() && words[i] != "within") {
    const auto port = port_number(words[i]);
    if (!port)
      problems.at(line, fmt::format("step \"{}\": \"{}\" is not a port (1-65535)", text, words[i]));
    step.port = *port;
    ++i;
  }
  if (i < words.size()) {
    if (words[i] != "within" || i + 2 != words.size())
      problems.at(line, fmt::format("step \"{}\": expected \"connect [PORT] [within D]\", e.g. "
                                    "\"connect 40000 within 100ms\"", text));
    try {
      step.within = parse_duration(words[i + 1]);
    } catch (const InputError& e) {
      problems.at(line, fmt::format("step \"{}\": {}", text, e.what()));
    }
    if (step.within->count() == 0)
      problems.at(line, fmt::format("step \"{}\": within must be more than 0ms", text));
  }
}

// exchange N by C / answer N by C
void parse_exchange(Step& step, const std::vector<std::string_view>& words, std::string_view word,
                    std::size_t line, const Problems& problems) {
  const auto total = words.size() == 4 && words[2] == "by" ? positive_count(words[1]) : std::nullopt;
  const auto chunk = total ? positive_count(words[3]) : std::nullopt;
  if (!chunk)
    problems.at(line, fmt::format("step \"{}\": expected \"{} N by C\" (N bytes in chunks of C), e.g. "
                                  "\"{} 4194304 by 16384\"", step.text, word, word));
  if (*total % *chunk != 0)
    problems.at(line, fmt::format("step \"{}\": {} is not a whole number of {}-byte chunks", step.text, *total, *chunk));
  step.bytes = *total;
  step.chunk = *chunk;
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
    case StepGrammar::Argument::port: {
      const auto port = words.size() == 2 ? port_number(words[1]) : std::nullopt;
      if (!port)
        problems.at(line, fmt::format("step \"{}\": bind needs one port (1-65535), e.g. \"bind 40000\"", text));
      step.port = *port;
      break;
    }
    case StepGrammar::Argument::connect:
      parse_connect(step, words, text, line, problems);
      break;
    case StepGrammar::Argument::exchange:
      parse_exchange(step, words, grammar->word, line, problems);
      break;
  }
  return step;
}

namespace {

/// Where a side's list may open, and which steps it may not take at all.
struct Opening {
  std::string_view example;                // "connect" / "accept"
  std::vector<StepKind> first;             // the first step other than bind
};

Opening opening_of(Side side) {
  if (side == Side::client) return {"connect", {StepKind::connect}};
  // A server that connects instead of accepting opens simultaneously with the client.
  return {"accept", {StepKind::accept, StepKind::connect}};
}

/// The checks one step gets from its place in `side`'s list.
void check_step_place(const TableReader& t, Side side, const std::vector<Step>& before, const Step& step,
                      std::size_t line) {
  const std::string_view key = side_name(side);
  const Opening opening = opening_of(side);
  const bool opened = std::any_of(before.begin(), before.end(), [](const Step& s) { return s.kind != StepKind::bind; });
  if (!opened && step.kind != StepKind::bind &&
      std::find(opening.first.begin(), opening.first.end(), step.kind) == opening.first.end())
    t.problems().at(line, fmt::format("{} must start with \"{}\" (it starts with \"{}\")", key,
                                      opening.example, step.text));
  if (side == Side::client && step.kind == StepKind::accept)
    t.problems().at(line, fmt::format("{} step \"{}\": only the server does that", key, step.text));
  if (side == Side::server && step.kind == StepKind::connect && step.port == 0)
    t.problems().at(line, fmt::format("{} step \"{}\": the server connects to a port of the client's, "
                                      "e.g. \"connect 40000\"", key, step.text));
  const bool accepts = std::any_of(before.begin(), before.end(), [](const Step& s) { return s.kind == StepKind::accept; });
  if (side == Side::server && accepts && (step.kind == StepKind::bind || step.kind == StepKind::connect))
    t.problems().at(line, fmt::format("{} step \"{}\": a server that accepts does not bind or connect "
                                      "(it listens on the scenario's port)", key, step.text));
  if (!before.empty() && before.back().kind == StepKind::exit)
    t.problems().at(line, fmt::format("{} step \"{}\" comes after \"exit\" and would never run", key, step.text));
}

/// `client` or `server`: a non-empty list of steps opening with connect / accept (after any bind).
std::vector<Step> read_steps(const TableReader& t, Side side) {
  const std::string_view key = side_name(side);
  const std::string_view opening = opening_of(side).example;
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
    check_step_place(t, side, steps, step, line);
    steps.push_back(std::move(step));
  }
  if (std::all_of(steps.begin(), steps.end(), [](const Step& s) { return s.kind == StepKind::bind; }))
    t.problems().at(steps.back().line, fmt::format("{} must start with \"{}\" (it only binds)", key, opening));
  return steps;
}

/// connections = N > 1: each copy of a side's steps is one connection on its own ephemeral port,
/// in this process: one connect (accept), no bind, no port of its own, no exit.
void check_concurrent(const TableReader& t, const Scenario& scenario) {
  for (const Side side : {Side::client, Side::server}) {
    const auto& steps = scenario.steps[side];
    const StepKind opens = side == Side::client ? StepKind::connect : StepKind::accept;
    const auto count = std::count_if(steps.begin(), steps.end(), [&](const Step& s) { return s.kind == opens; });
    for (const Step& step : steps) {
      const bool own_port = step.kind == StepKind::bind || (side == Side::server && step.kind == StepKind::connect);
      if (own_port || step.kind == StepKind::exit || (step.kind == opens && count > 1))
        t.fail("connections", fmt::format("connections = {} runs {} copies of each side at once, so {} step "
                                          "\"{}\" (line {}) cannot be in them: each copy opens one connection, "
                                          "from an ephemeral port, in lastack's own process",
                                          scenario.connections, scenario.connections, side_name(side),
                                          step.text, step.line));
    }
  }
}

}  // namespace

Scenario read_scenario(const toml::table& table, const Problems& problems) {
  const TableReader t(table, "[scenario]", {"client", "server", "port", "settle", "timeout", "finish", "mtu",
                                                   "connections", "random-seed"},
                      problems);
  Scenario scenario;
  scenario.steps.client = read_steps(t, Side::client);
  scenario.steps.server = read_steps(t, Side::server);
  if (auto port = t.integer("port", 1, 65535)) scenario.port = static_cast<std::uint16_t>(*port);
  // 1280: the least IPv6 allows; 65535: the most a veth takes.
  if (auto mtu = t.integer("mtu", 1280, 65535)) scenario.mtu = static_cast<std::uint32_t>(*mtu);
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
  if (auto n = t.integer("connections", 1, max_concurrent_connections)) {
    scenario.connections = static_cast<std::uint32_t>(*n);
    if (scenario.connections > 1) check_concurrent(t, scenario);
  }
  // TOML integers are signed 64-bit: a seed from 0 to 2^63-1 (`--seed` takes any 64-bit one).
  if (auto seed = t.integer("random-seed", 0, i64_max)) scenario.random_seed = static_cast<std::uint64_t>(*seed);
  return scenario;
}

}  // namespace lastack::policy_toml
