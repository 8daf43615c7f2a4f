#pragma once
// JUnit XML for CI: one <testsuite name="lastack">, one <testcase> per run. Pure rendering.
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "lastack/oracle.hpp"
#include "harness/core/base/xml_text.hpp"

namespace lastack {

/// One run of one policy, as a CI test case.
struct JUnitCase {
  std::string policy;
  unsigned round = 1;                  // > 1: the name gets " #round"
  RunVerdict verdict = RunVerdict::fail;
  std::chrono::duration<double> wall{};
  std::size_t checks = 0;              // every check judged, passed or not
  std::vector<CheckResult> failed;     // the checks that failed, and the policy's unchecked ones
  std::string error;                   // non-empty: the run ended in an error (exit 2/3/4), not a verdict
  std::string note;                    // the sampling note, when states were sampled
};

/// One <testcase> element (with <failure>, <skipped> for an inconclusive run, or <error>), with the
/// note as <system-out>; newline-terminated.
std::string render_junit_case(const JUnitCase& run);

/// The whole report: XML declaration, <testsuite name="lastack" tests failures errors skipped time>, each case.
std::string render_junit(const std::vector<JUnitCase>& runs, std::chrono::duration<double> total);

}  // namespace lastack
