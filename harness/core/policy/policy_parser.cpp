// TOML policy files -> Policy: every key known, every value checked, every error one line.
// The sections are read by their own files: policy_scenario, policy_sysctls, policy_faults,
// policy_lab_actions, policy_expect, on top of policy_toml's strict table reader.
#include "lastack/policy_parser.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "harness/core/policy/policy_expect.hpp"
#include "harness/core/policy/policy_faults.hpp"
#include "harness/core/policy/policy_lab_actions.hpp"
#include "harness/core/policy/policy_link.hpp"
#include "harness/core/policy/policy_scenario.hpp"
#include "harness/core/policy/policy_sysctls.hpp"
#include "harness/core/policy/policy_toml.hpp"

namespace lastack {

using namespace policy_toml;

namespace {

/// An app check sums one agent's steps; N copies of each agent have N step lists.
void check_concurrent_expects(const Policy& policy, const Problems& problems) {
  if (policy.scenario.connections <= 1) return;
  for (const Expectation& e : policy.expect)
    if (const auto* app = std::get_if<AppExpect>(&e))
      problems.at(app->line, fmt::format("check = \"app\" judges one agent's steps, and connections = {} runs {} "
                                         "of each side: the bytes-delivered invariant checks every "
                                         "connection's bytes",
                                         policy.scenario.connections, policy.scenario.connections));
}

}  // namespace

Policy parse_policy(std::string_view toml_text, const std::string& file) {
  const Problems problems(file);
  toml::table root_table;
  try {
    root_table = toml::parse(toml_text, std::string_view(file));
  } catch (const toml::parse_error& e) {
    std::string what(e.description());
    std::replace(what.begin(), what.end(), '\n', ' ');
    problems.at(e.source().begin.line, what);
  }
  const TableReader root(root_table, "",
                         {"name", "summary", "explanation", "seed", "scenario", "sysctl", "fault",
                          "lab", "expect", "link"},
                         problems);
  Policy policy;
  policy.file = file;
  root.require("name");
  policy.name = read_text(root, "name", true);
  if (policy.name.empty()) root.fail("name", "name must not be empty");
  policy.summary = read_text(root, "summary", true);
  policy.explanation = read_text(root, "explanation", false);
  policy.seed = read_text(root, "seed", false);

  if (!root.has("scenario")) problems.at(1, "missing required table [scenario]");
  policy.scenario = read_scenario(*root.table("scenario", "[scenario] client = [\"connect\"] ..."), problems);
  read_sysctls(root, policy.scenario, problems);

  for (const toml::table* table : tables_of(root, "fault")) policy.faults.push_back(read_fault(*table, problems, policy.scenario.timeout));
  for (const toml::table* table : tables_of(root, "lab")) policy.lab.push_back(read_lab(*table, problems));
  for (const toml::table* table : tables_of(root, "expect")) policy.expect.push_back(read_expect(*table, problems));
  policy.link = read_link(root);
  check_concurrent_expects(policy, problems);
  return policy;
}

Step parse_agent_step(const std::string& text, const std::string& file, std::size_t line) {
  const Problems problems(file);
  return parse_step(text, line, problems);
}

}  // namespace lastack
