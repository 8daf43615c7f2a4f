#include "harness/core/oracle/backoff_model.hpp"

#include <algorithm>

#include "harness/core/trace/trace_query.hpp"

namespace lastack {

namespace {

// TCP_THIN_LINEAR_RETRIES: a thin stream's retransmissions that keep their RTO.
constexpr std::size_t thin_linear_retries = 6;

std::optional<long long> sysctl_number(const Trace& trace, Side side, const std::string& name) {
  const auto& sysctls = trace.sysctls[side];
  const auto it = sysctls.find(name);
  if (it == sysctls.end()) return std::nullopt;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

struct Settings {
  Duration rto_max{tcp_rto_max};
  long long syn_linear = 4;   // the kernel's default, when the trace does not say
  bool thin_linear = false;
};

Settings settings_of(const Trace& trace, Side side) {
  Settings s;
  s.rto_max = rto_max_of(trace, side);
  s.syn_linear = sysctl_number(trace, side, "net.ipv4.tcp_syn_linear_timeouts").value_or(4);
  s.thin_linear = sysctl_number(trace, side, "net.ipv4.tcp_thin_linear_timeouts").value_or(0) != 0;
  return s;
}

void settle(GapVerdict& v, bool ok, Duration gap, Duration nominal, const TimingBound& b, std::size_t g) {
  v.ok = ok;
  if (!ok) v.problem = BackoffProblem{BackoffMiss::gap, v.rule, g + 1, gap, nominal, {}, 0, b};
}

// Traced: the kernel armed each timer with the RTO it reports at the next retransmission; the
// rule is whether that RTO follows from the one before (doubled and capped, or kept where the
// settings allow).
GapVerdict judge_traced(const Trace& trace, const std::vector<const WireEvent*>& chain, const std::vector<Duration>& gaps,
                        std::size_t g, const KernelRetransmit& before, const KernelRetransmit& k, const Settings& s) {
  GapVerdict v;
  const Duration prev_rto(before.rto), rto(k.rto), jiffy(trace.jiffy);
  const bool active_syn = chain.front()->segment.flags.syn() && !chain.front()->segment.flags.ack();
  const bool may_keep = (active_syn && static_cast<long long>(g) <= s.syn_linear) ||
                        (s.thin_linear && k.state == TcpState::ESTABLISHED && g + 1 <= thin_linear_retries);
  const Duration doubled = std::min<Duration>(2 * prev_rto, s.rto_max);
  const bool kept = k.backoff == before.backoff;
  v.rule = {kept ? (active_syn ? BackoffRule::syn_linear : BackoffRule::thin_linear)
           : doubled < 2 * prev_rto ? BackoffRule::capped
                                    : BackoffRule::doubled,
            g, s.syn_linear, s.rto_max};
  if (kept && !may_keep) {
    v.ok = false;
    v.problem = BackoffProblem{BackoffMiss::kept_rto, v.rule, g + 1, rto, {}, {}, k.backoff, {}};
    return v;
  }
  if (!kept && (rto > doubled + jiffy || rto + jiffy < doubled)) {
    v.ok = false;
    v.problem = BackoffProblem{BackoffMiss::rto_not_doubled, v.rule, g + 1, rto, doubled, prev_rto, k.backoff, {}};
    return v;
  }
  const TimingBound b = with_timer_lateness(timing_bound(trace, rto, false), timer_lateness(trace, *chain[g + 1]));
  settle(v, b.admits(gaps[g], rto), gaps[g], rto, b, g);
  return v;
}

}  // namespace

Duration rto_max_of(const Trace& trace, Side side) {
  const auto ms = sysctl_number(trace, side, "net.ipv4.tcp_rto_max_ms");
  return ms && *ms > 0 ? Duration(std::chrono::milliseconds(*ms)) : Duration(tcp_rto_max);
}

GapVerdict judge_gap(const Trace& trace, const std::vector<const WireEvent*>& chain, const std::vector<Duration>& gaps,
                     std::size_t g) {
  const WireEvent& first = *chain.front();
  const Settings s = settings_of(trace, first.info.from);
  const KernelRetransmit* before = kernel_retransmit_for(trace, *chain[g]);
  const KernelRetransmit* k = kernel_retransmit_for(trace, *chain[g + 1]);
  if (before && k && k->cause == RetransmitCause::rto && before->cause == RetransmitCause::rto)
    return judge_traced(trace, chain, gaps, g, *before, *k, s);
  // From the gaps alone: doubling (capped), or kept where the settings say so.
  GapVerdict v;
  const bool active_syn = first.segment.flags.syn() && !first.segment.flags.ack();
  const bool syn_linear = active_syn && static_cast<long long>(g) <= s.syn_linear;
  const bool thin_maybe = s.thin_linear && first.segment.seq_space() > 0 && !first.segment.flags.syn() &&
                          !first.segment.flags.fin() && g + 1 <= thin_linear_retries;
  const Duration doubled = std::min<Duration>(2 * gaps[g - 1], s.rto_max);
  const bool capped = doubled < 2 * gaps[g - 1];
  const auto bound_for = [&](int factor) {
    const TimingBound b = capped && factor == 2 ? timing_bound(trace, s.rto_max, false) : doubling_bound(trace, gaps[g - 1], factor);
    return with_timer_lateness(b, timer_lateness(trace, *chain[g + 1]), timer_lateness(trace, *chain[g]), factor);
  };
  v.rule = {BackoffRule::doubled_gap, g, s.syn_linear, s.rto_max};
  if (syn_linear) {
    v.rule.rule = BackoffRule::syn_linear_gap;
    const TimingBound b = bound_for(1);
    settle(v, b.admits(gaps[g], gaps[g - 1]), gaps[g], gaps[g - 1], b, g);
    return v;
  }
  if (capped) v.rule.rule = BackoffRule::capped;
  const TimingBound b = bound_for(2);
  if (thin_maybe && bound_for(1).admits(gaps[g], gaps[g - 1])) {
    v.rule.rule = BackoffRule::thin_maybe;
    return v;
  }
  settle(v, b.admits(gaps[g], doubled), gaps[g], doubled, b, g);
  return v;
}

}  // namespace lastack
