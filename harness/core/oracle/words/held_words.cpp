// socket-held in words: "server socket 198.18.2.2:8080 ← 198.18.1.2:40000 (connection 1) held
// CLOSE_WAIT for 1.20 s, still in it at the end".
#include "harness/core/oracle/words/held_words.hpp"

#include <vector>

#include <fmt/format.h>

#include "harness/core/base/duration_text.hpp"
#include "harness/core/oracle/expect/expectation_support.hpp"

namespace lastack {

using namespace detail;

namespace {

std::string states_text(const std::vector<TcpState>& states) {
  std::vector<std::string> names;
  for (TcpState s : states) names.emplace_back(state_name(s));
  return join(names, " or ");
}

// "1.20 s" from a second up (a leak is measured in seconds), "12.3 ms" below.
std::string held_text(Duration d) {
  if (d >= std::chrono::seconds(1)) return fmt::format("{:.2f} s", std::chrono::duration<double>(d).count());
  return ms_text(d);
}

// "198.18.2.2:8080", "[fd00:2::2]:8080", or "port 8080" when no segment names the address.
std::string endpoint_text(const std::optional<IpAddress>& address, std::uint16_t port) {
  if (!address) return fmt::format("port {}", port);
  if (address->family == IpFamily::v6) return fmt::format("[{}]:{}", address->str(), port);
  return fmt::format("{}:{}", address->str(), port);
}

// "server socket 198.18.2.2:8080 ← 198.18.1.2:40312 (connection 1)": the arrow points at the server.
std::string socket_text(const SocketSeen& s) {
  const std::string connection = s.connection ? fmt::format(" (connection {})", s.connection->value) : "";
  if (s.listener) return fmt::format("{} listener {}{}", side_name(s.side), endpoint_text(s.local, s.local_port), connection);
  return fmt::format("{} socket {} {} {}{}", side_name(s.side), endpoint_text(s.local, s.local_port),
                     s.side == Side::server ? "←" : "→", endpoint_text(s.remote, s.remote_port), connection);
}

std::string hold_text(const HoldSeen& h) {
  return fmt::format("{} held {} for {}{}{}", socket_text(h.socket), state_name(h.state), h.exact ? "" : "at least ",
                     held_text(h.at_least), h.at_end ? ", still in it at the end" : "");
}

// " (one round trip: 100.2 ms measured, bound ...)" for longer-than = "rtt"; else empty.
std::string rtt_text(const HeldClaim& c) {
  if (!c.rtt) return "";
  return fmt::format(" (one round trip: {} measured, {})", ms_text(c.rtt->measured), c.rtt->bound.text());
}

std::string unknown_text(const HoldUnknown& u, const HeldClaim& c) {
  const std::string name = socket_text(u.socket);
  switch (u.doubt) {
    case HoldDoubt::timewait_unknown: return fmt::format("{}: {}", name, u.detail);
    case HoldDoubt::sampled_at_end:
      return fmt::format("{}: last sampled in {} just before the end, with segments after", name, state_name(u.state));
    case HoldDoubt::ended_before_bound:
      return fmt::format("{}: still in {} at the end, held {} so far: the run ended before {}", name,
                         state_name(u.state), held_text(u.at_least), held_text(c.longer_than.value_or(Millis{})));
    case HoldDoubt::between_samples:
      return fmt::format("{}: held {} between {} and {} ({})", name, state_name(u.state), held_text(u.at_least),
                         held_text(u.at_most), sampling_note);
    case HoldDoubt::last_state_unknown: return fmt::format("{}: its last state is not known ({})", name, sampling_note);
  }
  return name;
}

}  // namespace

std::string held_side(const CheckSubject& s) {
  return s.resolved ? std::string(side_name(*s.resolved)) : "client or server";
}

std::string held_name(const CheckSubject& s, const HeldClaim& c) {
  const std::string bound = c.rtt           ? " longer than one round trip"
                            : c.longer_than ? fmt::format(" longer than {}", held_text(*c.longer_than))
                                            : " at the end";
  return fmt::format("no {} socket held in {}{}", held_side(s), states_text(c.states), bound);
}

std::string held_expected(const CheckSubject& s, const HeldClaim& c) {
  if (c.longer_than)
    return fmt::format("no {} socket held in {} longer than {}{}", held_side(s), states_text(c.states),
                       held_text(*c.longer_than), rtt_text(c));
  return fmt::format("no {} socket still in {} when the run ends", held_side(s), states_text(c.states));
}

std::string held_saw(const CheckSubject& s, const HeldClaim& c, const HoldsSeen& seen) {
  std::vector<std::string> texts;
  for (const HoldSeen& h : seen.held) texts.push_back(hold_text(h));
  if (!texts.empty()) return join(texts) + rtt_text(c);  // the bound it was judged by, pass or fail
  const std::string states = states_text(c.states);
  std::string out = fmt::format("{} observed; ", counted(seen.sockets, s.resolved ? held_side(s) + " socket" : "socket"));
  out += seen.longest ? fmt::format("the longest in {}: {}", states, hold_text(*seen.longest))
                      : fmt::format("none entered {}", states);
  std::vector<std::string> unknowns;
  for (const HoldUnknown& u : seen.unknowns) unknowns.push_back(unknown_text(u, c));
  if (seen.blind_spot)
    unknowns.push_back(fmt::format("a hold shorter than {} between two samples can be missed ({}), and {} is shorter",
                                   ms_text(*seen.blind_spot), sampling_note, held_text(c.longer_than.value_or(Millis{}))));
  if (!unknowns.empty()) out += ": not checked: " + join(unknowns);
  return out + rtt_text(c);
}

}  // namespace lastack
