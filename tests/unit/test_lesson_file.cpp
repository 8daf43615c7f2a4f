// The lesson file read strictly (one line file:line: what), and the shipped seed-texts lesson
// against README's list of the seed texts' claims.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <catch2/catch.hpp>

#include "harness/core/report/lesson_file.hpp"
#include "lastack/error.hpp"

using namespace lastack;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {
namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

const std::string claim = R"(
[[claim]]
quote = "挥手可以变为三次吗？可以"
verdict = "confirmed"
why = "three-segment-close"
policies = ["three-segment-close"]
)";

// The one-line error parsing `text` as lesson.toml gives.
std::string error_of(const std::string& text) {
  try {
    parse_lesson(text, "lesson.toml");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("lesson file: claims and the three kinds of question") {
  const Lesson l = parse_lesson("title = \"t\"\n" + claim + R"(
[[question]]
policy = "baseline"
ask = "which state?"
answer = "state"
side = "client"
before = "first-fin-ack"
choices = ["CLOSE_WAIT", "fin-wait-2"]

[[question]]
policy = "drop-final-ack"
ask = "answered?"
answer = "reply"
before = "second-fin"
nth = 2
choices = ["ACK", "RST", "nothing"]

[[question]]
policy = "baseline"
ask = "which path?"
answer = "path"
side = "server"
choices = ["LISTEN → SYN_RECV", "LISTEN -> ESTABLISHED"]
)", "lesson.toml");
  REQUIRE(l.claims.size() == 1);
  CHECK(l.claims[0].quote == "挥手可以变为三次吗？可以");
  CHECK(!l.claims[0].corrected);
  CHECK(l.claims[0].line == 3);
  REQUIRE(l.questions.size() == 3);
  CHECK(l.questions[0].answer == AnswerKind::state);
  CHECK(l.questions[0].before == Role::first_fin_ack);
  CHECK(l.questions[1].nth == 2);
  CHECK(l.questions[1].answer == AnswerKind::reply);
  CHECK(l.questions[2].side == Side::server);
  CHECK(!l.questions[2].before);
  CHECK(path_states("LISTEN → SYN_RECV") == std::vector<std::string>{"LISTEN", "SYN_RECV"});
  CHECK(path_states("LISTEN -> FIN_WAIT2") == std::vector<std::string>{"LISTEN", "FIN_WAIT_2"});
  CHECK(!path_states("LISTEN → SYN_RCVD_X"));
  CHECK(!path_states("LISTEN"));
}

TEST_CASE("lesson file: bad input is one line saying what and where") {
  CHECK(error_of("title = \"t\"\n") == "lesson.toml:1: a lesson needs at least one [[claim]]");
  CHECK_THAT(error_of("title = \"t\"\n" + claim + "colour = 1\n"), StartsWith("lesson.toml:8:"));
  CHECK_THAT(error_of("title = \"t\"\n" + claim + "colour = 1\n"), Contains("colour"));
  CHECK_THAT(error_of("title = \"t\"\n[[claim]]\nquote = \"q\"\nverdict = \"true\"\npolicies = [\"x\"]\n"),
             Contains("lesson.toml:4: unknown verdict \"true\" (expected one of: confirmed, corrected)"));
  const std::string q = "title = \"t\"\n" + claim + "[[question]]\npolicy = \"baseline\"\nask = \"a\"\n";
  CHECK(error_of(q + "answer = \"state\"\nside = \"client\"\nbefore = \"first-fin-ack\"\nchoices = [\"FIN_WAIT\", \"X\"]\n") ==
        "lesson.toml:14: unknown state in \"FIN_WAIT\" (e.g. FIN_WAIT_2, TIME_WAIT)");
  CHECK_THAT(error_of(q + "answer = \"state\"\nside = \"client\"\nbefore = \"fni\"\nchoices = [\"LISTEN\", \"CLOSED\"]\n"),
             StartsWith("lesson.toml:13: unknown segment role \"fni\""));
  CHECK(error_of(q + "answer = \"state\"\nside = \"client\"\nchoices = [\"LISTEN\", \"CLOSED\"]\n") ==
        "lesson.toml:11: a state or reply question needs before = \"ROLE\" (the segment it pauses before)");
  CHECK(error_of(q + "answer = \"reply\"\nside = \"client\"\nbefore = \"fin\"\nchoices = [\"ACK\", \"RST\"]\n") ==
        "lesson.toml:12: a reply question names no side (the segment's receiver answers)");
  CHECK(error_of(q + "answer = \"reply\"\nbefore = \"fin\"\nchoices = [\"ACK\"]\n") ==
        "lesson.toml:13: choices needs at least two");
  CHECK(error_of(q + "answer = \"reply\"\nbefore = \"fin\"\nchoices = [\"ACK\", \"FIN\"]\n") ==
        "lesson.toml:13: unknown reply \"FIN\" (expected one of: ACK, RST, nothing)");
  CHECK_THAT(error_of("title = \"t\"\n[[claim]\n"), StartsWith("lesson.toml:2:"));
}

TEST_CASE("the seed texts' lesson: a claim for every claim README lists, each run by a shipped policy") {
  const fs::path dir = LASTACK_POLICY_DIR;
  const fs::path file = dir.parent_path() / "lessons" / "seed-texts.toml";
  const Lesson l = parse_lesson(slurp(file), file.string());
  const std::string readme = slurp(dir.parent_path() / "README.md");
  const auto begin = readme.find("### What the seed texts get right");
  REQUIRE(begin != std::string::npos);
  const std::string section = readme.substr(begin, readme.find("\n## ", begin) - begin);
  std::size_t bullets = 0;
  for (auto at = section.find("\n- *"); at != std::string::npos; at = section.find("\n- *", at + 1)) {
    ++bullets;
    // The bullet's quoted text, between its first "*" and the next; quotes stripped.
    std::string quote = section.substr(at + 4, section.find('*', at + 4) - at - 4);
    if (quote.starts_with("\"")) quote = quote.substr(1, quote.size() - 2);
    INFO(quote);
    CHECK(std::any_of(l.claims.begin(), l.claims.end(), [&](const LessonClaim& c) { return c.quote == quote; }));
  }
  CHECK(bullets == l.claims.size());
  CHECK(bullets >= 12);
  for (const LessonClaim& c : l.claims)
    for (const std::string& p : c.policies) CHECK(fs::exists(dir / (p + ".toml")));
  std::size_t interview = 0;
  for (const LessonQuestion& q : l.questions) {
    CHECK(fs::exists(dir / (q.policy + ".toml")));
    interview += q.quote.find("挥手") != std::string::npos ? 1 : 0;
  }
  CHECK(interview >= 2);  // the seed's two interview questions
}
