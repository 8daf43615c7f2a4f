#pragma once
// The library's front door, for an application's own tests: enter lab privileges, describe or
// load a policy, run it on the real kernel, and read the verdicts and the trace.
//
//   lastack::sys::enter_lab_privileges();                        // first thing in main()
//   auto policy = lastack::parse_policy(toml_text, "my-test");   // or load_policy("drop-syn", dir)
//   auto result = lastack::run_policy(policy, {});
//   REQUIRE(result.passed());   // or result.verdict: pass, fail, inconclusive (something not checked)
//
// Your own sockets instead of lastack's agents: run_policy(policy, {}, lastack::InProcess{...})
// (include/lastack/in_process.hpp).
#include "lastack/error.hpp"           // Error and its exit codes
#include "lastack/in_process.hpp"      // run_policy(..., InProcess), LabSide
#include "lastack/oracle.hpp"          // CheckResult
#include "lastack/policy_library.hpp"  // load_policy, policy_dir
#include "lastack/policy_parser.hpp"   // parse_policy
#include "lastack/privilege.hpp"       // enter_lab_privileges
#include "lastack/report.hpp"          // render_ladder, render_verdicts
#include "lastack/run.hpp"             // run_policy, RunOptions, RunResult
#include "lastack/trace_jsonl.hpp"     // write_jsonl
