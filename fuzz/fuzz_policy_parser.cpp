// libFuzzer target: TOML text -> Policy (parse_policy) or InputError. A policy that parses is
// also described and compiled to queue rules, as `lastack explain` and `lastack run` do with it.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_support.hpp"
#include "lastack/error.hpp"
#include "lastack/policy_parser.hpp"
#include "harness/core/report/policy_text.hpp"
#include "harness/core/decide/queue_rules.hpp"

using namespace lastack;

namespace {

// What the run does with a policy before any packet moves.
void use(const Policy& policy) {
  for (const FaultRule& rule : policy.faults) (void)describe_fault(rule);
  for (const LabAction& action : policy.lab) (void)describe_lab_action(action);
  for (const Capture capture : {Capture::all, Capture::selective}) {
    (void)why_every_segment(policy, capture);
    for (const bool ipv6 : {false, true}) (void)compile_queue_rules(policy, capture, 7, ipv6);
  }
  // Capture::none refuses a policy with faults or lab actions with InputError: documented.
  fuzz::expect_only<InputError>([&] { (void)compile_queue_rules(policy, Capture::none, 7, false); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::expect_only<InputError>([&] { use(parse_policy(fuzz::as_text(data, size), "fuzz.toml")); });
  return 0;
}
