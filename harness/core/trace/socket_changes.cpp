// Sample diffing for the sock_diag sampler: what changed between a socket's samples, and which
// sockets a sample no longer shows.
#include "harness/core/trace/socket_changes.hpp"

#include "harness/core/trace/timewait_timer.hpp"

namespace lastack {

bool socket_changed(const SocketEvent& a, const SocketSample& a_sample, const SocketEvent& b,
                    const SocketSample& b_sample, std::chrono::microseconds jiffy) {
  if (a.state != b.state || a.timer != b.timer || a.retransmits != b.retransmits ||
      a.total_retrans != b.total_retrans || a.rto != b.rto)
    return true;
  return b.timer == SocketTimer::time_wait &&
         expiry_moved_later(expiry_bounds(a, a_sample, jiffy), expiry_bounds(b, b_sample, jiffy));
}

SocketChanges::SocketChanges(std::chrono::microseconds jiffy) : jiffy_(jiffy) {}

void SocketChanges::next_sample(const SocketSample& sample, const std::vector<SocketEvent>& shown, bool list_all,
                                std::vector<SocketEvent>& out) {
  std::set<SocketCookie> present;
  for (const SocketEvent& e : shown) {
    present.insert(e.cookie);
    auto it = seen_.find(e.cookie);
    if (it == seen_.end()) {
      out.push_back(e);
      seen_.emplace(e.cookie, Seen{e, sample});
    } else if (list_all || socket_changed(it->second.last, it->second.sample, e, sample, jiffy_)) {
      out.push_back(e);
      it->second = Seen{e, sample};
    } else {
      // Keep the newest countdown so a restart is measured against the latest sample.
      it->second.last.at = e.at;
      it->second.last.expires = e.expires;
      it->second.sample = sample;
    }
  }
  log_gone(sample, present, out);
}

void SocketChanges::log_gone(const SocketSample& sample, const std::set<SocketCookie>& present,
                             std::vector<SocketEvent>& out) {
  for (auto& [cookie, seen] : seen_) {
    // Logged gone once: a socket stays CLOSE until its cookie shows again.
    if (present.count(cookie) || seen.last.state == TcpState::CLOSE) continue;
    SocketEvent gone = seen.last;
    gone.at = sample.start;
    gone.state = TcpState::CLOSE;
    gone.timer = SocketTimer::none;
    gone.expires = Millis(0);
    out.push_back(gone);
    seen.last = gone;
  }
}

}  // namespace lastack
