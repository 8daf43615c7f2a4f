// The pinned table. Values are the upstream defaults of Linux 6.x unless the `why` says otherwise.
#include "harness/core/policy/pinned_sysctls.hpp"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

namespace lastack {

namespace {

constexpr PinnedSysctl table[] = {
    // Timers
    {"net.ipv4.tcp_rto_min_us", "200000",
     "the RTO floor (200 ms) every `after = \"rto\"` check and tail-loss probe timeout is built on",
     "200000"},
    {"net.ipv4.tcp_rto_max_ms", "120000",
     "the RTO ceiling every doubling stops at (TCP_RTO_MAX, 120 s); kernels before 6.15 hard-code it",
     "120000"},
    {"net.ipv4.tcp_syn_linear_timeouts", "0",
     "SYN retransmissions double from the first (1 s, 2 s, 4 s); 6.x defaults to 4 linear ones first",
     "0"},
    {"net.ipv4.tcp_thin_linear_timeouts", "0",
     "a thin stream's RTO (under 4 segments in flight) still doubles, as `backoff` checks",
     std::nullopt},
    {"net.ipv4.tcp_no_metrics_save", "1",
     "each connection starts from its own handshake's RTT: otherwise a closed connection's cached "
     "RTT, variance and ssthresh set the next one's first RTO and slow start (seen: a second "
     "redis-cli connection's first RTO 900 ms, after a first whose answer was retransmitted)",
     std::nullopt},
    {"net.ipv4.tcp_syn_retries", "6", "how many SYN retransmissions before connect() fails with ETIMEDOUT",
     std::nullopt},
    {"net.ipv4.tcp_synack_retries", "5", "how many SYN-ACK retransmissions before a request is dropped",
     std::nullopt},
    {"net.ipv4.tcp_retries2", "15", "how long a connected socket retransmits before giving up",
     std::nullopt},
    {"net.ipv4.tcp_orphan_retries", "0",
     "how long an orphan (closed by its application) retransmits its FIN; 0 means 8", std::nullopt},
    {"net.ipv4.tcp_fin_timeout", "60", "how long an orphaned FIN_WAIT_2 waits for the peer's FIN",
     std::nullopt},
    // Loss detection and recovery
    {"net.ipv4.tcp_early_retrans", "0",
     "tail-loss probes off (Linux's default is 3, on): a probe fires a few ms after the last send when "
     "the peer's ACK is not yet processed, which on a loaded host is a race (half-close: a FIN probed "
     "4 ms after it left, its ACK handled 24 ms late); a policy that shows probes sets 3",
     std::nullopt},
    {"net.ipv4.tcp_recovery", "1", "RACK loss detection: when a sent segment counts as lost",
     std::nullopt},
    {"net.ipv4.tcp_frto", "2", "F-RTO: how a spurious RTO retransmission is detected and undone",
     std::nullopt},
    {"net.ipv4.tcp_sack", "1",
     "SACK: duplicate ACKs carry SACK blocks, and tail-loss probes and RACK need it", std::nullopt},
    {"net.ipv4.tcp_timestamps", "1",
     "RTT samples for the RTO, and PAWS in TIME_WAIT: which late segments TIME_WAIT accepts",
     std::nullopt},
    // Sending
    {"net.ipv4.tcp_congestion_control", "reno",
     "a namespace otherwise inherits the host's choice (bbr, which paces); reno is always built in "
     "and allowed in a namespace",
     std::nullopt},
    {"net.ipv4.tcp_autocorking", "1",
     "small writes coalesce: whether a FIN rides on the last data segment, and segment counts",
     std::nullopt},
    {"net.ipv4.tcp_slow_start_after_idle", "1",
     "the window restarts after an idle pause (a `sleep` step), so segment counts after one",
     std::nullopt},
    {"net.ipv4.tcp_rmem", "4096 131072 6291456",
     "receive buffers, so the windows a side advertises (the kernel's defaults, whatever the host set)",
     std::nullopt},
    {"net.ipv4.tcp_wmem", "4096 16384 4194304", "send buffers: how much a write queues before it blocks",
     std::nullopt},
    {"net.ipv4.tcp_moderate_rcvbuf", "1",
     "receive buffers grow with the flow up to tcp_rmem's maximum (autotuning), so the windows a bulk transfer reaches",
     std::nullopt},
    {"net.ipv4.tcp_ecn", "0",
     "no ECN negotiation: SYN and SYN-ACK carry no ECE/CWR, whatever the distribution's default",
     std::nullopt},
    // Many connections at once (connections = N)
    {"net.ipv4.tcp_max_syn_backlog", "4096",
     "half-open connections a listener keeps before SYN cookies answer (the default scales with the host's memory)",
     std::nullopt},
    {"net.core.somaxconn", "4096", "the longest accept queue a listen() gets", std::nullopt},
    // TIME_WAIT
    {"net.ipv4.tcp_max_tw_buckets", "4096",
     "TIME_WAIT sockets are kept (the default scales with the host's memory; 0 would skip TIME_WAIT)",
     std::nullopt},
    {"net.ipv4.tcp_rfc1337", "0", "a RST ends TIME_WAIT (TIME-WAIT assassination, RFC 1337)",
     std::nullopt},
    {"net.ipv4.tcp_tw_reuse", "0",
     "connect() never takes over a TIME_WAIT socket's port (default 2: only for loopback)",
     std::nullopt},
};

}  // namespace

std::span<const PinnedSysctl> pinned_sysctls() { return table; }

const PinnedSysctl* find_pinned_sysctl(std::string_view name) {
  const auto it = std::find_if(std::begin(table), std::end(table),
                               [&](const PinnedSysctl& p) { return p.name == name; });
  return it == std::end(table) ? nullptr : &*it;
}

bool absent_is_pinned_value(const PinnedSysctl& pin) {
  return pin.absent_behaves_as && *pin.absent_behaves_as == pin.value;
}

std::string absent_sysctl_text(const PinnedSysctl& pin) {
  if (!pin.absent_behaves_as) return "absent on this kernel";
  return fmt::format("absent (this kernel predates it and behaves as {})", *pin.absent_behaves_as);
}

}  // namespace lastack
