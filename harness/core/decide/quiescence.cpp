#include "harness/core/decide/quiescence.hpp"

#include <fmt/format.h>

#include <map>
#include <tuple>

namespace lastack {

std::string why_unsettled(const std::vector<SocketNow>& sockets, std::chrono::milliseconds left) {
  for (const SocketNow& s : sockets) {
    if (s.state == TcpState::LISTEN) continue;
    const std::string who = fmt::format("{} socket {}->{}", side_name(s.side), s.local_port, s.remote_port);
    if (s.state != TcpState::TIME_WAIT) return fmt::format("{} is in {}", who, state_name(s.state));
    // Its end would be a state change inside the settle time: the run must see it.
    if (s.expires <= left)
      return fmt::format("{} leaves TIME_WAIT in {} ms, within the settle time ({} ms left)", who,
                         s.expires.count(), left.count());
  }
  return {};
}

std::vector<SocketNow> sockets_at(const Trace& trace, Instant t) {
  // One entry per socket: its cookie (older traces: its ports).
  std::map<std::tuple<Side, SocketCookie, std::uint16_t, std::uint16_t>, const SocketEvent*> last;
  for (const TraceEvent& e : trace.events)
    if (const auto* s = std::get_if<SocketEvent>(&e); s && s->at <= t)
      last[{s->side, s->cookie, s->cookie ? 0 : s->local_port, s->cookie ? 0 : s->remote_port}] = s;
  std::vector<SocketNow> out;
  for (const auto& [key, s] : last) {
    if (s->state == TcpState::CLOSE) continue;
    const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(t - s->at);
    out.push_back({s->side, s->local_port, s->remote_port, s->state, std::max(s->expires - since, Millis(0))});
  }
  return out;
}

}  // namespace lastack
