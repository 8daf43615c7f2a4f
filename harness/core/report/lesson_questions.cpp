#include "harness/core/report/lesson_questions.hpp"

#include <fmt/format.h>

#include "harness/core/trace/trace_query.hpp"
#include "lastack/tcp_state.hpp"

namespace lastack {

namespace {
std::string path_text(const std::vector<TcpState>& path) {
  std::string out;
  for (TcpState s : path) out += (out.empty() ? "" : " → ") + std::string(state_name(s));
  return out;
}

// What the receiver of `w` sent next on its connection, once `w` had arrived.
std::pair<std::string, std::string> reply_to(const WireEvent& w, const WireIndex& wire) {
  if (!delivered(w)) return {"nothing", "the segment never reached its receiver"};
  const Side receiver = peer_of(w.info.from);
  const Instant arrived = arrival_time(w);
  for (std::size_t i = 0; i < wire.events.size(); ++i) {
    const WireEvent& r = *wire.events[i];
    if (r.info.connection != w.info.connection || r.info.from != receiver || r.injected || r.at < arrived) continue;
    return {r.segment.flags.rst() ? "RST" : "ACK",
            fmt::format("the {}'s kernel sent {} seq {} ack {} next (segment {})", side_name(receiver),
                        r.segment.flags.tcpdump(), r.info.rel_seq, r.info.rel_ack, i + 1)};
  }
  return {"nothing", fmt::format("the {}'s kernel sent nothing more on this connection", side_name(receiver))};
}

std::optional<std::size_t> matching_choice(const LessonQuestion& q, const std::string& answer,
                                           const std::vector<TcpState>& path) {
  for (std::size_t c = 0; c < q.choices.size(); ++c) {
    const std::string& choice = q.choices[c];
    if (q.answer == AnswerKind::reply && choice == answer) return c;
    if (q.answer == AnswerKind::state)
      if (const auto s = state_from_name(choice); s && state_name(*s) == answer) return c;
    if (q.answer == AnswerKind::path)
      if (const auto states = path_states(choice)) {
        std::vector<std::string> kernel;
        for (TcpState s : path) kernel.emplace_back(state_name(s));
        if (*states == kernel) return c;
      }
  }
  return std::nullopt;
}
}  // namespace

QuestionOnRun answer_on_run(const LessonQuestion& q, const std::vector<PlayStep>& steps, const WireIndex& wire) {
  PageQuestion page{0, q.ask, q.quote, q.choices, "", std::nullopt, ""};
  std::vector<TcpState> path;
  if (q.before) {
    const auto step = step_with_role(steps, wire, *q.before, q.nth);
    if (!step)
      return {std::nullopt, fmt::format("the run has no {} segment number {}", role_name(*q.before), q.nth)};
    page.before = *step;
  }
  const PlayStep& at = steps.empty() ? PlayStep{} : steps[page.before];
  const ConnectionIndex connection = at.segment ? wire.events[*at.segment]->info.connection : ConnectionIndex{};
  switch (q.answer) {
    case AnswerKind::state: {
      const auto state = state_after(steps, page.before, q.side, connection);
      if (!state) return {std::nullopt, fmt::format("the run shows no state of the {}", side_name(q.side))};
      page.answer = state_name(*state);
      page.evidence = fmt::format("After step {}, the {}'s kernel had its socket in {}.", page.before + 1,
                                  side_name(q.side), page.answer);
      break;
    }
    case AnswerKind::reply: {
      if (!at.segment) return {std::nullopt, "the step has no segment"};
      auto [answer, evidence] = reply_to(*wire.events[*at.segment], wire);
      page.answer = answer;
      page.evidence = fmt::format("Step {}'s segment: {}.", page.before + 1, evidence);
      break;
    }
    case AnswerKind::path: {
      path = state_path(steps, q.side, connection);
      if (path.empty()) return {std::nullopt, fmt::format("the run shows no state of the {}", side_name(q.side))};
      page.answer = path_text(path);
      page.evidence = fmt::format("The {}'s states in the run, each from the kernel's own report.", side_name(q.side));
      break;
    }
  }
  page.correct = matching_choice(q, page.answer, path);
  return {page, ""};
}

}  // namespace lastack
