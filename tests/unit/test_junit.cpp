// JUnit XML: the exact structure CI parses, and escaping of what checks and policies say.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "harness/core/report/junit.hpp"

using namespace lastack;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

namespace {
JUnitCase passing(std::string policy, unsigned round = 1) {
  JUnitCase c;
  c.policy = std::move(policy);
  c.round = round;
  c.verdict = RunVerdict::pass;
  c.wall = 0.5s;
  c.checks = 8;
  return c;
}
}  // namespace

TEST_CASE("xml_escape escapes the five XML specials and drops control bytes", "[junit]") {
  CHECK(xml_escape(R"(a&b<c>d"e'f)") == "a&amp;b&lt;c&gt;d&quot;e&apos;f");
  CHECK(xml_escape("\x1b[31mred\x1b[0m\tok\n") == "[31mred[0m\tok\n");
  CHECK(xml_escape("plain") == "plain");
}

TEST_CASE("render_junit writes one suite with counts and one testcase per run", "[junit]") {
  JUnitCase failed = passing("wrong-expectation");
  failed.verdict = RunVerdict::fail;
  failed.checks = 9;
  failed.wall = 1.25s;
  failed.failed.push_back({"state server ends in TIME_WAIT (line 14)", false, Outcome::fail, "TIME_WAIT", "CLOSED", 14});
  JUnitCase errored = passing("drop-syn", 2);
  errored.verdict = RunVerdict::fail;
  errored.error = "harness error: the kernel dropped 3 queued segments";

  const std::string xml = render_junit({passing("baseline"), failed, errored}, 3.5s);
  CHECK(xml ==
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<testsuite name=\"lastack\" tests=\"3\" failures=\"1\" errors=\"1\" skipped=\"0\" time=\"3.500\">\n"
        "  <testcase classname=\"lastack.baseline\" name=\"baseline\" time=\"0.500\"/>\n"
        "  <testcase classname=\"lastack.wrong-expectation\" name=\"wrong-expectation\" time=\"1.250\">\n"
        "    <failure message=\"1 of 9 checks failed\">state server ends in TIME_WAIT (line 14)\n"
        "  expected: TIME_WAIT\n"
        "  saw: CLOSED\n"
        "</failure>\n"
        "  </testcase>\n"
        "  <testcase classname=\"lastack.drop-syn\" name=\"drop-syn #2\" time=\"0.500\">\n"
        "    <error message=\"harness error: the kernel dropped 3 queued segments\"/>\n"
        "  </testcase>\n"
        "</testsuite>\n");
}

TEST_CASE("render_junit escapes names, messages and failure text", "[junit]") {
  JUnitCase c = passing("a&b");
  c.verdict = RunVerdict::fail;
  c.failed.push_back({"gap < \"rto\"", true, Outcome::fail, "x > 'y'", "a & b", 0});
  std::string xml = render_junit_case(c);
  CHECK_THAT(xml, Contains(R"(classname="lastack.a&amp;b" name="a&amp;b")"));
  CHECK_THAT(xml, Contains("gap &lt; &quot;rto&quot;\n  expected: x &gt; &apos;y&apos;\n  saw: a &amp; b\n"));
  CHECK(xml.find("a&b") == std::string::npos);

  c.error = "died with <signal> \"9\"";
  CHECK_THAT(render_junit_case(c), Contains(R"(<error message="died with &lt;signal&gt; &quot;9&quot;"/>)"));
}

TEST_CASE("render_junit of no runs is an empty suite CI can still read", "[junit]") {
  CHECK(render_junit({}, 0s) ==
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<testsuite name=\"lastack\" tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\" time=\"0.000\">\n"
        "</testsuite>\n");
}
