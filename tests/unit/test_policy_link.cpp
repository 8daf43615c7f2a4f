// The [link] table and --link: what parses into what, and one line with file:line for each mistake.
#include <catch2/catch.hpp>

#include <string>

#include "harness/core/policy/policy_link.hpp"
#include "lastack/error.hpp"
#include "lastack/policy_parser.hpp"

using namespace lastack;
using namespace std::chrono_literals;

namespace {

/// A valid policy whose lines 1-4 are fixed, with `rest` from line 5 on.
std::string policy_with(const std::string& rest) {
  return "name = \"t\"\n[scenario]\nclient = [\"connect\", \"close\"]\nserver = [\"accept\", \"close\"]\n" + rest;
}

std::string error_of(const std::string& text) {
  try {
    (void)parse_policy(text, "t.toml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string spec_error(const std::string& spec) {
  try {
    (void)policy_toml::parse_link_spec(spec);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("rates are bits per second in tc's units, sizes bytes in powers of 1024") {
  CHECK(policy_toml::parse_rate("8mbit") == 8'000'000u);
  CHECK(policy_toml::parse_rate("1.5gbit") == 1'500'000'000u);
  CHECK(policy_toml::parse_rate("100kbit") == 100'000u);
  CHECK(policy_toml::parse_rate("9600bit") == 9600u);
  CHECK(policy_toml::parse_size("64kb") == 65536u);
  CHECK(policy_toml::parse_size("1mb") == 1048576u);
  CHECK(policy_toml::parse_size("1500b") == 1500u);
  CHECK_THROWS_AS(policy_toml::parse_rate("8mbps"), InputError);
  CHECK_THROWS_AS(policy_toml::parse_rate("0mbit"), InputError);
  CHECK_THROWS_AS(policy_toml::parse_rate("mbit"), InputError);
  CHECK_THROWS_AS(policy_toml::parse_size("64"), InputError);
}

TEST_CASE("[link] sets both directions, and a direction's table overrides it") {
  const Policy p = parse_policy(policy_with("[link]\nlatency = \"50ms\"\njitter = \"10ms\"\nrate = \"8mbit\"\n"
                                            "[link.server-to-client]\nlatency = \"20ms\"\nloss = 0.01\nqueue = 100\n"),
                                "t.toml");
  REQUIRE(p.link);
  CHECK(p.link->line == 5);
  const LinkDirection& up = p.link->from[Side::client];
  const LinkDirection& down = p.link->from[Side::server];
  CHECK(up.latency == 50ms);
  CHECK(up.jitter == 10ms);
  CHECK(up.rate == 8'000'000u);
  CHECK(up.queue_bytes == 65536u);  // the default queue with a rate
  CHECK(up.loss == 0);
  CHECK(down.latency == 20ms);
  CHECK(down.jitter == 10ms);
  CHECK(down.loss == 0.01);
  CHECK(down.queue_segments == 100u);
  CHECK_FALSE(down.queue_bytes);
  CHECK(p.link->active());
  CHECK_FALSE(parse_policy(policy_with(""), "t.toml").link);
}

TEST_CASE("a [link] mistake is one line with its file and line") {
  CHECK(error_of(policy_with("[link]\nlatncy = \"50ms\"\n")) ==
        "t.toml:6: unknown key \"latncy\" in [link] (expected one of: latency, jitter, reorder, rate, queue, loss, "
        "duplicate, client-to-server, server-to-client)");
  CHECK(error_of(policy_with("[link]\nlatency = 50\n")) ==
        "t.toml:6: latency = 50 has no unit: write a string with one, e.g. \"50ms\"");
  CHECK(error_of(policy_with("[link]\nrate = \"8mbps\"\n")) ==
        "t.toml:6: rate: \"8mbps\": unknown rate unit \"mbps\" (expected bit, kbit, mbit or gbit per second)");
  CHECK(error_of(policy_with("[link]\nloss = 2\n")) == "t.toml:6: loss = 2 must be more than 0 and at most 1");
  CHECK(error_of(policy_with("[link]\nqueue = \"64kb\"\n")) ==
        "t.toml:6: [link] client-to-server: a queue needs a rate (it holds what the rate cannot send yet)");
  CHECK(error_of(policy_with("[link]\nlatency = \"5ms\"\nreorder = true\n")) ==
        "t.toml:7: [link] client-to-server: reorder = true needs a jitter to reorder by");
  CHECK(error_of(policy_with("[link]\n[link.client-to-server]\nrate = \"1mbit\"\nqueue = 0\n")) ==
        "t.toml:8: queue must be at least 1");
  CHECK(error_of(policy_with("[link.server-to-client]\nspeed = 1\n")) ==
        "t.toml:6: unknown key \"speed\" in [link.server-to-client] (expected one of: latency, jitter, reorder, "
        "rate, queue, loss, duplicate)");
  CHECK(error_of(policy_with("[[link]]\nlatency = \"5ms\"\n")).rfind("t.toml:5: link must be a table", 0) == 0);
}

TEST_CASE("the --link option is [link] for both directions, its mistakes named after the option") {
  const Link l = policy_toml::parse_link_spec("latency=50ms,jitter=10ms,rate=8mbit,queue=64kb,loss=0.1,reorder=true");
  for (const Side s : {Side::client, Side::server}) {
    CHECK(l.from[s].latency == 50ms);
    CHECK(l.from[s].jitter == 10ms);
    CHECK(l.from[s].rate == 8'000'000u);
    CHECK(l.from[s].queue_bytes == 65536u);
    CHECK(l.from[s].loss == 0.1);
    CHECK(l.from[s].reorder);
  }
  CHECK(l.line == 0);
  CHECK(policy_toml::parse_link_spec("queue=10,rate=1mbit").from[Side::client].queue_segments == 10u);
  CHECK(spec_error("latency") == "--link: \"latency\" is not key=value (e.g. latency=50ms,jitter=10ms)");
  CHECK(spec_error("latency=50").rfind("--link latency=50: latency = 50 has no unit", 0) == 0);
  CHECK(spec_error("speed=1mbit").rfind("--link speed=1mbit: unknown key \"speed\" in [link]", 0) == 0);
  CHECK(spec_error("latency=\"5ms\"") == "--link: \"latency=\"5ms\"\" is not key=value");
}
