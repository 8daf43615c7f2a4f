// app in words: "recv-until-eof: eof (1000 bytes); read 1000 bytes, wrote 0 bytes".
#include "harness/core/oracle/words/app_words.hpp"

#include <vector>

#include <fmt/format.h>

#include "harness/core/oracle/expect/expectation_support.hpp"
#include "harness/core/oracle/words/seen_words.hpp"

namespace lastack {

using namespace detail;

namespace {

// "server recv-until-eof: bytes 0..16384 of its stream are the client's bytes 2345678.. of connection 1"
std::string stale_text(const StaleRead& s) {
  return fmt::format("{} {}: bytes {}..{} of its stream are the {}'s bytes {}.. of connection {}", side_name(s.reader),
                     s.step, s.range.begin, s.range.end, side_name(s.writer), s.offset, s.connection.value);
}

std::string problem_text(const Finding& f, const AppClaim& c, const AppSeen& seen, AppMiss miss) {
  switch (miss) {
    case AppMiss::no_steps: return fmt::format("the {} agent reported no step", subject_side_text(f.check.subject));
    case AppMiss::not_seen: return fmt::format("no {}", c.sees.value_or(""));
    case AppMiss::received: return fmt::format("read {} bytes, not {}", seen.received, c.received.value_or(0));
    case AppMiss::sent: return fmt::format("wrote {} bytes, not {}", seen.sent, c.sent.value_or(0));
    case AppMiss::no_stale: {
      std::string out = fmt::format("no bytes of connection {} in what it read", c.stale_from.value_or(ConnectionNumber{}).value);
      if (f.why_not && f.why_not->reason == Unjudged::out_of_reach) out += ": " + f.why_not->detail;
      return out;
    }
  }
  return "";
}

}  // namespace

std::string app_name(const CheckSubject& s, const AppClaim& c) {
  std::vector<std::string> wants;
  if (c.sees) wants.push_back(fmt::format("sees {}", *c.sees));
  if (c.received) wants.push_back(fmt::format("received {} bytes", *c.received));
  if (c.sent) wants.push_back(fmt::format("sent {} bytes", *c.sent));
  if (c.stale_from) wants.push_back(fmt::format("reads bytes of connection {}", c.stale_from->value));
  return fmt::format("app {} {}", subject_side_text(s), join(wants, ", "));
}

std::string app_expected(const CheckSubject& s, const AppClaim& c) {
  std::vector<std::string> expected;
  const bool every_ok = c.sees && same_text_ignoring_case(*c.sees, "ok");
  if (c.sees) expected.push_back(every_ok ? "every step ok (or eof)" : fmt::format("a step ending in {}", *c.sees));
  if (c.received) expected.push_back(fmt::format("{} bytes read", *c.received));
  if (c.sent) expected.push_back(fmt::format("{} bytes written", *c.sent));
  if (c.stale_from)
    expected.push_back(fmt::format("some bytes read are the {}'s bytes of connection {}",
                                   s.resolved ? side_name(peer_of(*s.resolved)) : "peer", c.stale_from->value));
  return fmt::format("the {} app: {}", subject_side_text(s), join(expected, ", "));
}

std::string app_saw(const Finding& f, const AppClaim& c, const AppSeen& seen) {
  std::vector<std::string> steps;
  for (const StepSeen& s : seen.steps)
    steps.push_back(s.bytes > 0 ? fmt::format("{}: {} ({} bytes)", s.step, s.outcome, s.bytes)
                                : fmt::format("{}: {}", s.step, s.outcome));
  std::string out = steps.empty() ? fmt::format("no {} app steps", subject_side_text(f.check.subject))
                                  : fmt::format("{}; read {} bytes, wrote {} bytes", join(steps, ", "), seen.received,
                                                seen.sent);
  if (seen.stale) out = stale_text(*seen.stale) + "; " + out;
  std::vector<std::string> problems;
  for (const AppMiss miss : seen.problems) problems.push_back(problem_text(f, c, seen, miss));
  if (!problems.empty()) out += " (" + join(problems) + ")";
  return out;
}

}  // namespace lastack
