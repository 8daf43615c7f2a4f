// The decision engine: fault rules applied to segments in wire order, with a release queue for
// delayed and held segments. Time is whatever the caller says it is.
#include "harness/core/decide/decision.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "harness/core/decide/link_model.hpp"
#include "harness/core/decide/random_draw.hpp"
#include "lastack/duration.hpp"

namespace lastack {

struct DecisionEngine::RuleState {
  std::uint64_t matched = 0;   // segments the rule's selector picked so far (match number n)
  std::uint64_t affected = 0;  // segments the rule acted on, or drew for (probability)
  bool until_seen = false;     // hold: `until` has matched a segment already
  std::optional<DrawStream> draws;  // probability: made at the first draw of this scope
};

struct DecisionEngine::Waiting {
  std::uint64_t packet = 0;
  std::size_t fault = 0;
  std::optional<Instant> release_at;  // unset: a hold with no deadline, waiting for `until`
  std::string reason;                 // why it goes when release_at comes
  bool released_by_until = false;
  bool copies = false;                // a duplicate's held copies, not the segment itself
  ConnectionIndex connection;         // the segment's: per connection, only its `until` releases it
};

DecisionEngine::DecisionEngine(std::vector<FaultRule> rules, bool per_connection, std::uint64_t seed)
    : rules_(std::move(rules)),
      per_connection_(per_connection),
      seed_(seed),
      state_(rules_.size()),
      windows_(rules_, per_connection) {}
DecisionEngine::~DecisionEngine() = default;
DecisionEngine::DecisionEngine(DecisionEngine&&) noexcept = default;
DecisionEngine& DecisionEngine::operator=(DecisionEngine&&) noexcept = default;

std::size_t DecisionEngine::add_fault(FaultRule rule, Instant now) {
  const std::size_t index = rules_.size();
  windows_.add(rule);
  windows_.limit(index, WindowSpan{now, std::nullopt});
  added_at_[index] = now;
  rules_.push_back(std::move(rule));
  state_.emplace_back();
  return index;
}

void DecisionEngine::remove_fault(std::size_t rule, Instant now) {
  // Active in [added, removed): a segment decided from `now` on is outside.
  windows_.limit(rule, WindowSpan{added_at_.at(rule), now});
}

bool draws_at_random(const Policy& policy) {
  if (link_draws_at_random(policy.link)) return true;
  return std::any_of(policy.faults.begin(), policy.faults.end(), [](const FaultRule& f) { return f.probability.has_value(); });
}

bool selector_matches(const Selector& sel, const Classified& seg) {
  if (sel.segment && !seg.roles.has(*sel.segment)) return false;
  // Named by the order of closing: unknown until the connection's first FIN, so nothing matches.
  if (sel.from && resolve_side(*sel.from, seg.first_closer) != seg.from) return false;
  if (sel.connection && *sel.connection != number_of(seg.connection)) return false;
  return true;
}

namespace {

/// "fin from server": the until selector's role (or the segment's own roles) and its sender.
std::string release_cause(const Selector& until, const Classified& seg) {
  const std::string what = until.segment ? std::string(role_name(*until.segment))
                           : seg.roles.empty() ? std::string("a segment")
                                               : seg.roles.str();
  return fmt::format("released by {} from {}", what, side_name(seg.from));
}

bool applies(const FaultRule& rule, std::uint64_t match_number, std::uint64_t affected) {
  if (match_number < rule.nth) return false;
  if ((match_number - rule.nth) % std::max<std::uint32_t>(rule.every, 1) != 0) return false;
  return !rule.count || affected < *rule.count;
}

}  // namespace

DecisionEngine::RuleState& DecisionEngine::state_of(std::size_t rule, const Classified& seg) {
  return state_[rule][per_connection_ ? seg.connection.value : 0];
}

bool DecisionEngine::draw(std::size_t rule, const Classified& seg, RuleState& state, Decision& decision) {
  if (!state.draws) state.draws.emplace(seed_, rule, per_connection_ ? seg.connection.value : 0);
  const double p = *rules_[rule].probability;
  FaultDraw d{rule, rules_[rule].line, state.matched, p, state.draws->next(), false};
  d.fired = d.value < p;
  decision.draws.push_back(d);
  return d.fired;
}

void DecisionEngine::release_by_until(const Classified& seg, Instant now) {
  for (Waiting& w : waiting_) {
    const FaultRule& rule = rules_[w.fault];
    if (w.released_by_until || !rule.until || !selector_matches(*rule.until, seg)) continue;
    if (per_connection_ && w.connection != seg.connection) continue;
    w.released_by_until = true;
    if (!w.release_at || *w.release_at > now) {
      w.release_at = now;
      w.reason = release_cause(*rule.until, seg);
    }
  }
}

Decision DecisionEngine::decide(std::uint64_t packet, const Classified& seg, Instant now) {
  // Holds from earlier segments whose `until` this segment satisfies go first; a segment never
  // releases its own hold.
  release_by_until(seg, now);
  Decision decision;
  bool decided = false;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const FaultRule& rule = rules_[i];
    RuleState& state = state_of(i, seg);
    if (!selector_matches(rule.match, seg) || !windows_.active(i, seg, now)) continue;
    ++state.matched;
    if (decided || !applies(rule, state.matched, state.affected)) continue;
    decided = true;
    // What the hold waits for has already gone by: holding now would add a deadline's worth of
    // delay, not the ordering the rule asks for. The segment passes untouched.
    if (rule.action == ActionKind::hold && rule.until && state.until_seen) continue;
    ++state.affected;
    if (rule.probability && !draw(i, seg, state, decision)) {
      decided = false;  // not by chance this time: a later rule may still take the segment
      continue;
    }
    decision.fault = i;
    decision.action = rule.action;
    decision.pass = false;
    switch (rule.action) {
      case ActionKind::drop:
      case ActionKind::reset: break;  // the interceptor builds the RSTs (wire/reset_segment)
      case ActionKind::duplicate:
        decision.copies = rule.copies;
        // With until/deadline the copies wait, as old duplicates in the network do; if the
        // `until` already went by they go at once.
        if ((rule.until && !state.until_seen) || (!rule.until && rule.deadline.count() > 0)) {
          decision.copies_held = true;
          decision.release_at = rule.deadline.count() > 0 ? std::optional(now + rule.deadline) : std::nullopt;
          waiting_.push_back({packet, i, decision.release_at,
                              fmt::format("copies' deadline {}", format_duration(rule.deadline)), false, true,
                              seg.connection});
        }
        break;
      case ActionKind::delay:
        decision.release_at = now + rule.delay;
        waiting_.push_back({packet, i, decision.release_at,
                            fmt::format("delay {} elapsed", format_duration(rule.delay)), false, false,
                            seg.connection});
        break;
      case ActionKind::hold:
        if (rule.deadline.count() > 0) decision.release_at = now + rule.deadline;
        waiting_.push_back({packet, i, decision.release_at,
                            fmt::format("hold deadline {}", format_duration(rule.deadline)), false, false,
                            seg.connection});
        break;
    }
  }

  for (std::size_t i = 0; i < rules_.size(); ++i)
    if (rules_[i].until && selector_matches(*rules_[i].until, seg)) state_of(i, seg).until_seen = true;
  // After deciding: a window anchored at this segment opens after it, never on it.
  windows_.observe(seg, now);
  return decision;
}

std::vector<Release> DecisionEngine::due(Instant now) {
  std::vector<Release> out;
  const auto is_due = [&](const Waiting& w) { return w.release_at && *w.release_at <= now; };
  for (const Waiting& w : waiting_)
    if (is_due(w)) out.push_back({w.packet, w.fault, w.reason, w.copies});
  waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(), is_due), waiting_.end());
  return out;
}

std::optional<Instant> DecisionEngine::next_deadline() const {
  std::optional<Instant> next;
  for (const Waiting& w : waiting_)
    if (w.release_at && (!next || *w.release_at < *next)) next = w.release_at;
  return next;
}

std::vector<Release> DecisionEngine::release_all() {
  std::vector<Release> out;
  for (const Waiting& w : waiting_) out.push_back({w.packet, w.fault, "end of run", w.copies});
  waiting_.clear();
  return out;
}

}  // namespace lastack
