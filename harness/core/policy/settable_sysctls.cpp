#include "harness/core/policy/settable_sysctls.hpp"

#include <algorithm>
#include <iterator>

namespace lastack {

namespace {

constexpr SettableSysctl table[] = {
    // Timers: every gap check reads the kernel's own RTO and backoff (traced), or models them.
    {"net.ipv4.tcp_rto_min_us", "the RTO floor: `after = \"rto\"` and the bounds use the RTO the kernel reports"},
    {"net.ipv4.tcp_rto_max_ms", "the RTO ceiling: backoff doubles up to it, then stays (retransmission-backoff, `backoff`)"},
    {"net.ipv4.tcp_syn_linear_timeouts", "the first N SYN retransmissions of an active open do not double"},
    {"net.ipv4.tcp_thin_linear_timeouts", "a thin stream's first 6 retransmissions in ESTABLISHED do not double "
                                          "(the kernel's own backoff, traced; either, sampled)"},
    {"net.ipv4.tcp_syn_retries", "when connect() gives up: the sender's socket closes, and dropped-is-retransmitted "
                                 "stops expecting more"},
    {"net.ipv4.tcp_synack_retries", "when a request socket gives up (the same)"},
    {"net.ipv4.tcp_retries2", "when a connected socket gives up (the same)"},
    {"net.ipv4.tcp_orphan_retries", "when an orphan gives up (the same; its close records ETIMEDOUT)"},
    {"net.ipv4.tcp_fin_timeout", "an orphan's FIN_WAIT_2 timer: sampled with its expiry; it ends the socket silently"},
    {"net.ipv4.tcp_early_retrans", "tail-loss probes: a probe is the kernel's cause (traced) or inferred from the gaps, "
                                   "and backoff starts after it"},
    {"net.ipv4.tcp_recovery", "RACK: fast retransmits are the kernel's cause, left out of backoff"},
    {"net.ipv4.tcp_frto", "F-RTO: undoing a spurious RTO changes no timer the checks measure"},
    {"net.ipv4.tcp_sack", "SACK blocks: no check reads them"},
    {"net.ipv4.tcp_dsack", "D-SACK blocks: seen through the counters (TcpExt.TCPDSACK*)"},
    {"net.ipv4.tcp_timestamps", "RTT samples and PAWS: the RTO is the kernel's, PAWS shows in its counters"},
    {"net.ipv4.tcp_window_scaling", "window sizes: no check reads them"},
    {"net.ipv4.tcp_congestion_control", "how much goes out at once: segment counts are what the wire shows"},
    {"net.ipv4.tcp_autocorking", "whether small writes coalesce: segment counts are what the wire shows"},
    {"net.ipv4.tcp_slow_start_after_idle", "the window after a pause: segment counts are what the wire shows"},
    {"net.ipv4.tcp_no_metrics_save",
     "a closed connection's cached RTT and ssthresh seed the next: the RTO the checks use is the kernel's"},
    {"net.ipv4.tcp_rmem", "receive buffers: what the wire shows"},
    {"net.ipv4.tcp_wmem", "send buffers: what the wire shows"},
    {"net.ipv4.tcp_moderate_rcvbuf", "receive-buffer autotuning: what the wire shows"},
    {"net.ipv4.tcp_ecn", "ECN negotiation: flags on the wire"},
    {"net.ipv4.tcp_max_syn_backlog", "when SYN cookies answer: the request sockets sock_diag shows"},
    {"net.core.somaxconn", "the accept queue: what the agents report"},
    {"net.ipv4.tcp_max_tw_buckets", "TIME_WAIT skipped when full: TcpExt.TCPTimeWaitOverflow decides which socket did"},
    {"net.ipv4.tcp_rfc1337", "whether a RST ends TIME_WAIT: the sampled timewait socket shows it"},
    {"net.ipv4.tcp_tw_reuse", "connect() taking over a TIME_WAIT socket: it ends replaced, TcpExt.TWRecycled counts it"},
    {"net.ipv4.tcp_keepalive_time", "keepalive probes: the run waits while the timer is armed"},
    {"net.ipv4.tcp_keepalive_intvl", "the same"},
    {"net.ipv4.tcp_keepalive_probes", "the same"},
    {"net.ipv4.ip_local_port_range", "which ports connect() picks: the checks name connections, not ports"},
};

}  // namespace

std::span<const SettableSysctl> settable_sysctls() { return table; }

const SettableSysctl* find_settable_sysctl(std::string_view name) {
  const auto it = std::find_if(std::begin(table), std::end(table), [&](const SettableSysctl& s) { return s.name == name; });
  return it == std::end(table) ? nullptr : &*it;
}

}  // namespace lastack
