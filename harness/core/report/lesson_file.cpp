#include "harness/core/report/lesson_file.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "harness/core/policy/policy_toml.hpp"
#include "lastack/tcp_state.hpp"

namespace lastack {

namespace {
using policy_toml::Problems;
using policy_toml::TableReader;

// A non-empty list of one-line strings.
std::vector<std::string> string_list(const TableReader& t, std::string_view key, std::string_view example) {
  t.require(key, example);
  const toml::node* value = t.node(key);
  const std::string shape = fmt::format("{} must be a list of strings, e.g. {}", t.written(key), example);
  if (!value->is_array() || value->as_array()->empty()) t.fail(key, shape);
  std::vector<std::string> out;
  for (const toml::node& element : *value->as_array()) {
    if (!element.is_string()) t.problems().at(t.value_line(element, key), shape);
    out.push_back(element.as_string()->get());
  }
  return out;
}

LessonClaim read_claim(const toml::table& table, const Problems& problems) {
  const TableReader t(table, "[[claim]]", {"quote", "claim", "verdict", "why", "policies"}, problems);
  t.require("quote");
  t.require("verdict", "\"confirmed\" or \"corrected\"");
  LessonClaim c;
  c.line = t.line();
  c.quote = policy_toml::read_text(t, "quote", false);
  c.claim = policy_toml::read_text(t, "claim", true);
  c.why = policy_toml::read_text(t, "why", false);
  const std::string verdict = *t.string("verdict");
  if (verdict != "confirmed" && verdict != "corrected")
    t.fail("verdict", fmt::format("unknown verdict \"{}\" (expected one of: confirmed, corrected)", verdict));
  c.corrected = verdict == "corrected";
  c.policies = string_list(t, "policies", "[\"drop-final-ack\"]");
  return c;
}

std::optional<AnswerKind> answer_kind(std::string_view name) {
  if (name == "state") return AnswerKind::state;
  if (name == "reply") return AnswerKind::reply;
  if (name == "path") return AnswerKind::path;
  return std::nullopt;
}

void check_choices(const TableReader& t, const LessonQuestion& q) {
  if (q.choices.size() < 2) t.fail("choices", "choices needs at least two");
  for (const std::string& c : q.choices) {
    const bool ok = q.answer == AnswerKind::state   ? state_from_name(c).has_value()
                    : q.answer == AnswerKind::reply ? (c == "ACK" || c == "RST" || c == "nothing")
                                                    : path_states(c).has_value();
    if (!ok)
      t.fail("choices", q.answer == AnswerKind::reply
                            ? fmt::format("unknown reply \"{}\" (expected one of: ACK, RST, nothing)", c)
                            : fmt::format("unknown state in \"{}\" (e.g. FIN_WAIT_2, TIME_WAIT)", c));
  }
}

LessonQuestion read_question(const toml::table& table, const Problems& problems) {
  const TableReader t(table, "[[question]]",
                      {"policy", "quote", "ask", "answer", "side", "before", "nth", "choices"}, problems);
  t.require("policy");
  t.require("ask");
  t.require("answer", "\"state\", \"reply\" or \"path\"");
  LessonQuestion q;
  q.line = t.line();
  q.policy = policy_toml::read_text(t, "policy", true);
  q.quote = policy_toml::read_text(t, "quote", false);
  q.ask = policy_toml::read_text(t, "ask", true);
  q.answer = *t.named<AnswerKind>("answer", "answer", answer_kind, {"state", "reply", "path"});
  if (q.answer != AnswerKind::reply) {
    t.require("side", "\"client\" or \"server\"");
    q.side = *t.named<Side>("side", "side", [](std::string_view s) -> std::optional<Side> {
      if (s == "client") return Side::client;
      if (s == "server") return Side::server;
      return std::nullopt;
    }, {"client", "server"});
  } else if (t.has("side")) {
    t.fail("side", "a reply question names no side (the segment's receiver answers)");
  }
  q.before = t.named<Role>("before", "segment role", role_from_name, all_role_names());
  if (!q.before && q.answer != AnswerKind::path)
    t.fail("answer", "a state or reply question needs before = \"ROLE\" (the segment it pauses before)");
  q.nth = static_cast<std::size_t>(t.integer("nth", 1, 1000).value_or(1));
  q.choices = string_list(t, "choices", "[\"FIN_WAIT_2\", \"TIME_WAIT\"]");
  check_choices(t, q);
  return q;
}
}  // namespace

std::optional<std::vector<std::string>> path_states(const std::string& choice) {
  std::vector<std::string> parts(1);
  for (std::size_t i = 0; i < choice.size();) {
    const std::size_t arrow = choice.compare(i, 3, "→") == 0 ? 3 : choice.compare(i, 2, "->") == 0 ? 2 : 0;
    if (arrow) parts.emplace_back();
    else parts.back() += choice[i];
    i += arrow ? arrow : 1;
  }
  std::vector<std::string> out;
  for (std::string& part : parts) {
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    const auto state = state_from_name(part);
    if (!state) return std::nullopt;
    out.emplace_back(state_name(*state));
  }
  return out.size() >= 2 ? std::optional(out) : std::nullopt;
}

Lesson parse_lesson(const std::string& text, const std::string& file) {
  const Problems problems(file);
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(file));
  } catch (const toml::parse_error& e) {
    std::string what(e.description());
    std::replace(what.begin(), what.end(), '\n', ' ');
    problems.at(e.source().begin.line, what);
  }
  const TableReader t(root, "", {"title", "intro", "claim", "question"}, problems);
  t.require("title");
  Lesson lesson;
  lesson.file = file;
  lesson.title = policy_toml::read_text(t, "title", true);
  lesson.intro = policy_toml::read_text(t, "intro", false);
  for (const toml::table* c : policy_toml::tables_of(t, "claim")) lesson.claims.push_back(read_claim(*c, problems));
  for (const toml::table* q : policy_toml::tables_of(t, "question"))
    lesson.questions.push_back(read_question(*q, problems));
  if (lesson.claims.empty()) t.fail("title", "a lesson needs at least one [[claim]]");
  return lesson;
}

}  // namespace lastack
