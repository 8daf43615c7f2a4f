#include "harness/core/trace/pending.hpp"

#include <array>
#include <utility>

#include <fmt/format.h>

#include "harness/core/base/duration_text.hpp"

namespace lastack {

namespace {

struct KindNames {
  PendingKind kind;
  std::string_view key, words;
};

constexpr std::array<KindNames, 7> kind_names{{
    {PendingKind::retransmission, "retransmission", "retransmission timer"},
    {PendingKind::window_probe, "window-probe", "zero-window probe timer"},
    {PendingKind::keepalive, "keepalive", "keepalive timer"},
    {PendingKind::synack, "synack", "SYN-ACK timer"},
    {PendingKind::delayed_ack, "delayed-ack", "delayed ACK"},
    {PendingKind::held_segment, "held-segment", "held segment"},
    {PendingKind::lab_action, "lab-action", "lab action"},
}};

constexpr std::uint8_t kRetransmitTimer = 1, kKeepaliveTimer = 2, kProbeTimer = 4;

}  // namespace

std::string_view pending_kind_name(PendingKind k) {
  for (const auto& n : kind_names)
    if (n.kind == k) return n.words;
  return "pending";
}

std::string_view pending_kind_key(PendingKind k) {
  for (const auto& n : kind_names)
    if (n.kind == k) return n.key;
  return "pending";
}

std::optional<PendingKind> pending_kind_from_key(std::string_view key) {
  for (const auto& n : kind_names)
    if (n.key == key) return n.kind;
  return std::nullopt;
}

std::vector<PendingEvidence> pending_timers(const std::vector<SocketTimerNow>& sockets, Instant now) {
  std::vector<PendingEvidence> out;
  for (const SocketTimerNow& s : sockets) {
    std::optional<PendingKind> kind;
    if (s.timer == kRetransmitTimer) kind = s.request ? PendingKind::synack : PendingKind::retransmission;
    if (s.timer == kProbeTimer) kind = PendingKind::window_probe;
    // An orphan's FIN_WAIT_2 runs on the keepalive timer and ends the socket without a segment.
    if (s.timer == kKeepaliveTimer && s.state != TcpState::FIN_WAIT2) kind = PendingKind::keepalive;
    if (!kind) continue;
    out.push_back({*kind, s.side, s.cookie, s.local_port, s.remote_port, std::nullopt, now + s.expires});
  }
  return out;
}

std::string pending_text(const std::vector<const PendingEvidence*>& pending) {
  std::string out;
  for (const PendingEvidence* p : pending) {
    if (!out.empty()) out += "; ";
    if (p->side)
      out += fmt::format("the {}'s {} (socket {}→{}), due at {}", side_name(*p->side), pending_kind_name(p->kind),
                         p->local_port, p->remote_port, ms_text(p->due));
    else
      out += fmt::format("a {}, due at {}", pending_kind_name(p->kind), ms_text(p->due));
  }
  return out;
}

}  // namespace lastack
