// The pinned-sysctl table: well formed, and covering every setting a shipped policy relies on.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "harness/core/policy/pinned_sysctls.hpp"
#include "lastack/policy_parser.hpp"
#include "harness/core/policy/settable_sysctls.hpp"

using namespace lastack;

TEST_CASE("every pinned sysctl is a per-namespace setting with a value and a reason", "[pinned]") {
  std::set<std::string_view> names;
  for (const PinnedSysctl& pin : pinned_sysctls()) {
    INFO(pin.name);
    CHECK(pin.name.rfind("net.", 0) == 0);
    CHECK_FALSE(pin.value.empty());
    CHECK_FALSE(pin.why.empty());
    CHECK(names.insert(pin.name).second);
    CHECK(find_pinned_sysctl(pin.name) == &pin);
  }
  CHECK(find_pinned_sysctl("net.ipv4.tcp_no_such_thing") == nullptr);
}

TEST_CASE("the mechanisms the shipped policies rely on are pinned", "[pinned]") {
  for (const char* name : {"net.ipv4.tcp_early_retrans", "net.ipv4.tcp_syn_linear_timeouts",
                           "net.ipv4.tcp_rto_min_us", "net.ipv4.tcp_sack", "net.ipv4.tcp_timestamps",
                           "net.ipv4.tcp_max_tw_buckets", "net.ipv4.tcp_rfc1337",
                           "net.ipv4.tcp_congestion_control"}) {
    INFO(name);
    CHECK(find_pinned_sysctl(name) != nullptr);
  }
}

TEST_CASE("a pinned sysctl a kernel lacks is tolerated only when its absence means the pinned value",
          "[pinned]") {
  // Kernels before the knob hard-code a 200 ms RTO floor: the same as the pinned value.
  const PinnedSysctl* rto_min = find_pinned_sysctl("net.ipv4.tcp_rto_min_us");
  REQUIRE(rto_min != nullptr);
  CHECK(absent_is_pinned_value(*rto_min));
  CHECK(absent_sysctl_text(*rto_min) == "absent (this kernel predates it and behaves as 200000)");
  // Tail-loss probes have no "absent" equivalent: a kernel without the setting is unpinned.
  const PinnedSysctl* early_retrans = find_pinned_sysctl("net.ipv4.tcp_early_retrans");
  REQUIRE(early_retrans != nullptr);
  CHECK_FALSE(absent_is_pinned_value(*early_retrans));
  CHECK(absent_sysctl_text(*early_retrans) == "absent on this kernel");
}

TEST_CASE("every sysctl a shipped policy sets overrides a pinned one", "[pinned]") {
  // A policy setting something the table does not pin would depend on a default the other
  // policies run with unpinned; add it to the table instead.
  std::size_t seen = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(LASTACK_POLICY_DIR)) {
    if (entry.path().extension() != ".toml") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const Policy p = parse_policy(text.str(), entry.path().string());
    for (const auto* settings : {&p.scenario.sysctls.client, &p.scenario.sysctls.server})
      for (const auto& [name, value] : *settings) {
        INFO(entry.path().filename().string() << ": " << name);
        CHECK(find_pinned_sysctl(name) != nullptr);
        ++seen;
      }
  }
  CHECK(seen > 0);
}

TEST_CASE("every pinned sysctl may be set by a policy, and docs/design.md lists every settable one", "[pinned]") {
  for (const PinnedSysctl& pin : pinned_sysctls()) {
    INFO(pin.name);
    CHECK(find_settable_sysctl(pin.name) != nullptr);
  }
  const auto docs = std::filesystem::path(LASTACK_FIXTURES).parent_path().parent_path() / "docs" / "design.md";
  std::ifstream in(docs);
  std::stringstream text;
  text << in.rdbuf();
  const std::string design = text.str();
  const auto section = design.find("### Settable sysctls");
  REQUIRE(section != std::string::npos);
  for (const SettableSysctl& s : settable_sysctls()) {
    INFO(s.name);
    CHECK_FALSE(s.model.empty());
    const std::string short_name(s.name.rfind("net.ipv4.", 0) == 0 ? s.name.substr(9) : s.name);
    CHECK(design.find("| " + short_name + " |", section) != std::string::npos);
  }
}
