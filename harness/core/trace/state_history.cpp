// State histories: one per socket cookie, from the tracepoint's exact full-socket states, the
// kernel's own fields at a close, and sock_diag's samples.
#include "harness/core/trace/state_history.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "lastack/netstat.hpp"
#include "harness/core/trace/socket_samples.hpp"
#include "harness/core/trace/trace_query.hpp"

namespace lastack {
namespace {

// The states a full socket hands over to a timewait socket from (tcp_time_wait). FIN_WAIT1 is
// not one: an ACK of the FIN moves it to FIN_WAIT2 first (traced), so FIN_WAIT1 -> CLOSE is the
// socket dying (orphan retries spent, tcp_write_err), not living on as a timewait socket.
bool closing(TcpState s) { return s == TcpState::FIN_WAIT2 || s == TcpState::CLOSING; }

bool timewait_state(TcpState s) { return s == TcpState::TIME_WAIT || s == TcpState::FIN_WAIT2; }

// A request socket as sock_diag shows it: SYN_RECV without tcp_info (inet_req_diag_fill).
bool request_sample(const SocketEvent& e) { return e.state == TcpState::SYN_RECV && e.rto.count() == 0; }

// The kind of socket a sample shows: a request socket, a timewait socket (sock_diag gives one
// its TIME_WAIT timer, whatever its substate), else a full socket.
SocketForm sample_form(const SocketEvent& e) {
  if (request_sample(e)) return SocketForm::request;
  if (e.timer == SocketTimer::time_wait || e.state == TcpState::TIME_WAIT) return SocketForm::timewait;
  return SocketForm::full;
}

// Repeats of a state in one kind of socket collapse; a request socket's child in SYN_RECV, or a
// full socket's FIN_WAIT_2 going on in a timewait socket, is a step of its own.
void push(StateHistory& h, Instant at, TcpState s, StateSource source, std::optional<TcpState> from = std::nullopt,
          SocketForm form = SocketForm::full) {
  if (s == TcpState::LISTEN) h.listener = true;
  if (!h.steps.empty() && h.steps.back().state == s && h.steps.back().form == form) return;
  h.steps.push_back({at, s, source, from, form, std::nullopt});
}

// A passive open's child (LISTEN -> SYN_RECV, tcp_create_openreq_child) is made from a request
// socket in SYN_RECV: its creation is the kernel's word that the request socket was there until
// then, when nothing earlier (a sample, a SYN-ACK retransmission) showed it.
void add_request_of_child(StateHistory& h, const StateChange& c) {
  if (c.from != TcpState::LISTEN || c.to != TcpState::SYN_RECV) return;
  const bool shown = std::any_of(h.steps.begin(), h.steps.end(), [](const StateStep& s) { return s.form == SocketForm::request; });
  if (!shown) h.steps.push_back({c.at, TcpState::SYN_RECV, StateSource::traced, std::nullopt, SocketForm::request, std::nullopt});
}

// The histories of a trace by identity: the cookie, or (older traces) side, ports and connection.
class Histories {
 public:
  explicit Histories(const Trace& trace) : trace_(trace) {}

  StateHistory& of(Side side, SocketCookie cookie, std::uint16_t local, std::uint16_t remote,
                   std::optional<ConnectionIndex> connection) {
    if (cookie != 0) {
      const auto [it, fresh] = by_cookie_.try_emplace({side, cookie}, out_.size());
      if (fresh) add(side, cookie, local, remote, connection);
      StateHistory& h = out_[it->second];
      if (h.local_port == 0 && local != 0) h.local_port = local, h.remote_port = remote;
      if (!h.connection) h.connection = connection;
      return h;
    }
    // Older traces: reused ports (a new incarnation) get a history of their own by connection.
    const auto conn = connection ? connection : connection_of_ports(trace_, side, local, remote);
    auto it = std::find_if(out_.begin(), out_.end(), [&](const StateHistory& h) {
      return h.cookie == 0 && h.side == side && h.local_port == local && h.remote_port == remote &&
             (!h.connection || !conn || h.connection == conn);
    });
    if (it == out_.end()) return add(side, 0, local, remote, conn);
    if (!it->connection) it->connection = conn;
    return *it;
  }

  std::size_t index(const StateHistory& h) const { return static_cast<std::size_t>(&h - out_.data()); }
  std::vector<StateHistory>& all() { return out_; }

 private:
  StateHistory& add(Side side, SocketCookie cookie, std::uint16_t local, std::uint16_t remote,
                    std::optional<ConnectionIndex> connection) {
    StateHistory h;
    h.side = side;
    h.cookie = cookie;
    h.local_port = local;
    h.remote_port = remote;
    h.connection = connection;
    out_.push_back(std::move(h));
    return out_.back();
  }

  const Trace& trace_;
  std::vector<StateHistory> out_;
  std::map<std::pair<Side, SocketCookie>, std::size_t> by_cookie_;
};

// A traced close from FIN_WAIT_2 or CLOSING, waiting to be judged with the whole trace in hand.
struct Close {
  std::size_t history = 0;
  std::size_t step = 0;  // the index its step got
  const StateChange* change = nullptr;
  Instant entered{};     // when the socket entered the closing state
  bool handover = false; // from FIN_WAIT_2 or CLOSING: tcp_time_wait may have made a timewait socket
};

// A RST the socket itself sent since it entered its closing state (before or as it closed:
// tcp_keepalive_timer sends it before tcp_done, tcp_close and tcp_rcv_state_process after).
bool reset_at_close(const Trace& trace, const StateHistory& h, const Close& c) {
  for (const TraceEvent& ev : trace.events) {
    const auto* r = std::get_if<KernelReset>(&ev);
    if (r && r->sent && r->side == h.side && h.cookie != 0 && r->cookie == h.cookie && !r->timewait_substate &&
        r->at >= c.entered)
      return true;
  }
  return false;
}

// The overflow count of `side`'s namespace over the run: the counter's change, else the value
// read at the end (lab namespaces start at 0); nullopt: not read.
std::optional<std::int64_t> overflow_of(const Trace& trace, Side side) {
  const auto& counters = trace.counters[side];
  if (counters)
    if (const auto it = counters->find("TcpExt.TCPTimeWaitOverflow"); it != counters->end()) return it->second;
  const auto& end = trace.timewait_overflow[side];
  if (end) return static_cast<std::int64_t>(*end);
  return std::nullopt;
}

// A timewait sample of `h` after its close at `at`.
bool sampled_timewait_after(const Trace& trace, const StateHistory& h, Instant at) {
  for (const SocketEvent* e : samples_of_socket(trace, h))
    if (e->at > at && timewait_state(e->state)) return true;
  return false;
}

// Judges each traced close: an error or a RST of its own ends the socket; otherwise tcp_time_wait
// handed it over, unless the namespace's overflow counter says some hand-overs found no room.
void judge_closes(const Trace& trace, std::vector<StateHistory>& out, const std::vector<Close>& closes) {
  std::map<Side, std::vector<const Close*>> unconfirmed;
  for (const Close& c : closes) {
    StateHistory& h = out[c.history];
    StateStep& step = h.steps[c.step];
    const auto& facts = c.change->facts;
    if (!c.handover) {
      h.end = facts && facts->error ? SocketEnd::error : reset_at_close(trace, h, c) ? SocketEnd::reset : SocketEnd::closed;
      if (facts) h.error = facts->error;
    } else if (!facts) {
      step.source = StateSource::inferred;
      h.timewait_unknown = "the trace does not record the socket's own fields at its close (an older lastack)";
    } else if (facts->error != 0) {
      step.state = TcpState::CLOSE, step.form = SocketForm::full, step.source = StateSource::traced, h.end = SocketEnd::error, h.error = facts->error;
    } else if (reset_at_close(trace, h, c)) {
      step.state = TcpState::CLOSE, step.form = SocketForm::full, step.source = StateSource::traced, h.end = SocketEnd::reset;
    } else if (!sampled_timewait_after(trace, h, c.change->at)) {
      unconfirmed[h.side].push_back(&c);
    }
  }
  for (auto& [side, list] : unconfirmed) {
    const auto overflow = overflow_of(trace, side);
    if (overflow && *overflow == 0) continue;  // every hand-over made its timewait socket
    const bool all_skipped = overflow && static_cast<std::size_t>(*overflow) == list.size();
    for (const Close* c : list) {
      StateHistory& h = out[c->history];
      StateStep& step = h.steps[c->step];
      if (all_skipped) {
        step.state = TcpState::CLOSE, step.form = SocketForm::full, step.source = StateSource::traced, h.end = SocketEnd::timewait_skipped;
        continue;
      }
      step.source = StateSource::inferred;
      h.timewait_unknown =
          overflow ? fmt::format("the {} counted {} TIME_WAIT overflow{} (TcpExt.TCPTimeWaitOverflow) for {} "
                                 "hand-overs no sample showed: which were skipped is not known",
                                 side_name(side), *overflow, *overflow == 1 ? "" : "s", list.size())
                   : fmt::format("the {}'s TIME_WAIT overflow counter was not read", side_name(side));
    }
  }
}

// When the SYN that made `h`'s request socket reached its side: the first SYN of its connection
// delivered from the peer by the request's first kernel evidence (shown, never evidence).
void add_request_wire_start(const Trace& trace, StateHistory& h) {
  const auto request = std::find_if(h.steps.begin(), h.steps.end(), [](const StateStep& s) { return s.form == SocketForm::request; });
  if (request == h.steps.end() || !h.connection) return;
  for (const WireEvent* w : wire_events(trace)) {
    if (w->info.connection != *h.connection || w->info.from == h.side || !w->segment.flags.syn() ||
        w->segment.flags.ack() || !delivered(*w) || w->injected)
      continue;
    if (arrival_time(*w) < request->at) request->wire_start = arrival_time(*w);
    return;
  }
}

// When the peer's FIN first reached `h`'s side, from the wire (an inference, for display).
std::optional<Instant> peer_fin_arrival(const Trace& trace, const StateHistory& h) {
  std::optional<Instant> first;
  if (!h.connection) return first;
  for (const WireEvent* w : wire_events(trace)) {
    if (w->info.connection != *h.connection || w->info.from == h.side || !w->segment.flags.fin() || !delivered(*w))
      continue;
    if (!first || arrival_time(*w) < *first) first = arrival_time(*w);
  }
  return first;
}

// A sample showing a FIN_WAIT_2 timewait socket in TIME_WAIT: the peer's FIN had reached it by
// then, and its band starts at the FIN's arrival on the wire (`wire_start`, shown only).
void wire_start_timewait(const Trace& trace, StateHistory& h) {
  for (std::size_t i = 1; i < h.steps.size(); ++i) {
    StateStep& s = h.steps[i];
    const StateStep& before = h.steps[i - 1];
    if (s.state != TcpState::TIME_WAIT || s.source != StateSource::sampled || before.state != TcpState::FIN_WAIT2 ||
        before.form != SocketForm::timewait)
      continue;
    if (const auto fin = peer_fin_arrival(trace, h); fin && *fin > before.at && *fin < s.at) s.wire_start = *fin;
    return;
  }
}

// A timewait socket last shown in FIN_WAIT_2 becomes TIME_WAIT when the peer's FIN reaches it:
// drawn as an inference when no sample showed it.
void infer_timewait(const Trace& trace, StateHistory& h) {
  if (!h.steps.empty() && h.reached(TcpState::TIME_WAIT)) wire_start_timewait(trace, h);
  if (h.steps.empty() || h.reached(TcpState::TIME_WAIT)) return;
  const auto tw = std::find_if(h.steps.begin(), h.steps.end(), [](const StateStep& s) {
    return s.state == TcpState::FIN_WAIT2 && (s.source == StateSource::handover || s.source == StateSource::sampled);
  });
  if (tw == h.steps.end()) return;
  const auto fin = peer_fin_arrival(trace, h);
  if (!fin || *fin < tw->at) return;
  auto next = std::find_if(h.steps.begin(), h.steps.end(), [&](const StateStep& s) { return s.at > *fin; });
  if (std::prev(next)->state != TcpState::FIN_WAIT2) return;
  h.steps.insert(next, StateStep{*fin, TcpState::TIME_WAIT, StateSource::inferred, TcpState::FIN_WAIT2,
                                 SocketForm::timewait, std::nullopt});
}

std::vector<StateHistory> traced_histories(const Trace& trace) {
  Histories histories(trace);
  std::vector<Close> closes;
  std::map<std::size_t, Instant> closed_at;  // full sockets that closed: later samples are their timewait socket
  std::set<std::size_t> traced;
  std::map<std::size_t, Instant> entered;  // when each history entered its current traced state
  for (const TraceEvent& ev : trace.events) {
    if (const auto* c = std::get_if<StateChange>(&ev)) {
      StateHistory& h = histories.of(c->side, c->cookie, c->local_port, c->remote_port, c->connection);
      const std::size_t i = histories.index(h);
      traced.insert(i);
      h.request = false;  // the child of a request socket keeps its cookie: one socket, now full
      if (c->to == TcpState::CLOSE && closing(c->from)) {
        // Decided with the whole trace: a timewait socket's state (hand-over), or CLOSE.
        h.steps.push_back({c->at, c->from == TcpState::CLOSING || (c->facts && c->facts->peer_fin)
                                      ? TcpState::TIME_WAIT : TcpState::FIN_WAIT2,
                           StateSource::handover, c->from, SocketForm::timewait, std::nullopt});
        closes.push_back({i, h.steps.size() - 1, c, entered[i], true});
      } else {
        add_request_of_child(h, *c);
        push(h, c->at, c->to, StateSource::traced, c->from);
        if (c->to == TcpState::CLOSE) closes.push_back({i, h.steps.size() - 1, c, entered[i], false});
      }
      entered[i] = c->at;
      if (c->to == TcpState::CLOSE) closed_at[i] = c->at;
    } else if (const auto* e = std::get_if<SocketEvent>(&ev)) {
      StateHistory& h = histories.of(e->side, e->cookie, e->local_port, e->remote_port, e->connection);
      const std::size_t i = histories.index(h);
      if (request_sample(*e) && !traced.count(i)) h.request = true;
      // A traced full socket's states are exact; sock_diag adds its timewait socket's.
      const auto closed = closed_at.find(i);
      if (traced.count(i) && (closed == closed_at.end() || e->at <= closed->second)) continue;
      const bool after_close = closed != closed_at.end() && e->state != TcpState::CLOSE;
      push(h, e->at, e->state, StateSource::sampled, std::nullopt, after_close ? SocketForm::timewait : sample_form(*e));
    } else if (const auto* k = std::get_if<KernelRetransmit>(&ev); k && k->cause == RetransmitCause::synack) {
      // The request socket's SYN-ACK timer: the kernel's word that it was in SYN_RECV then.
      StateHistory& h = histories.of(k->side, k->cookie, k->local_port, k->remote_port, k->connection);
      if (!traced.count(histories.index(h))) h.request = true;
      push(h, k->at, TcpState::SYN_RECV, StateSource::traced, std::nullopt, SocketForm::request);
    }
  }
  auto& out = histories.all();
  judge_closes(trace, out, closes);
  return out;
}

std::vector<StateHistory> sampled_histories(const Trace& trace) {
  Histories histories(trace);
  for (const TraceEvent& ev : trace.events) {
    const auto* e = std::get_if<SocketEvent>(&ev);
    if (!e) continue;
    StateHistory& h = histories.of(e->side, e->cookie, e->local_port, e->remote_port, e->connection);
    // A request socket's child keeps its cookie once it has one: the history is the child's then.
    if (e->state != TcpState::CLOSE) h.request = request_sample(*e) && (h.request || h.steps.empty());
    push(h, e->at, e->state, StateSource::sampled, std::nullopt, sample_form(*e));
  }
  return histories.all();
}

// The side's last sample, when the trace says it lists every socket it showed.
std::optional<SocketSample> final_sample(const Trace& trace, Side side) {
  const auto& samples = samples_of(trace, side);
  if (!trace.final_sample_lists_all || samples.empty()) return std::nullopt;
  return samples.back();
}

// Why a socket that a sample no longer showed is gone, from what the kernel and the lab report.
SocketEnd why_gone(const Trace& trace, const StateHistory& h, const std::vector<StateHistory>& all,
                   const SocketEvent* last, Instant gone) {
  for (const TraceEvent& ev : trace.events)
    if (const auto* l = std::get_if<LabEvent>(&ev); l && l->kind == LabEventKind::timewait_destroyed &&
                                                     (!l->side || *l->side == h.side) && l->at <= gone &&
                                                     (!last || l->at >= last->at))
      return SocketEnd::destroyed;
  // The last sample's timer ran out before the sample that missed it (its expiry is in ms).
  if (last && last->timer != SocketTimer::none && last->at + last->expires <= gone) return SocketEnd::timer;
  for (const StateHistory& other : all) {
    if (&other == &h || other.side != h.side || other.local_port != h.local_port ||
        other.remote_port != h.remote_port || other.steps.empty())
      continue;
    const Instant first = other.steps.front().at;
    if (first <= gone && (!last || first >= last->at)) return SocketEnd::replaced;
  }
  return SocketEnd::vanished;
}

// A traced close's facts against the samples of its timewait socket: a close the kernel ended
// (error, own RST, overflow) has none; one handed over in TIME_WAIT is never sampled in FIN_WAIT_2.
void note_conflict(const Trace& trace, StateHistory& h, const std::vector<const SocketEvent*>& samples) {
  if (trace.kernel_source != KernelSource::traced) return;
  const auto close = std::find_if(h.steps.begin(), h.steps.end(), [](const StateStep& s) {
    return s.from && (*s.from == TcpState::FIN_WAIT2 || *s.from == TcpState::CLOSING) &&
           (s.source == StateSource::handover || s.state == TcpState::CLOSE);
  });
  if (close == h.steps.end()) return;
  const auto first_tw = std::find_if(samples.begin(), samples.end(), [&](const SocketEvent* e) {
    return e->at > close->at && timewait_state(e->state);
  });
  if (first_tw == samples.end()) return;
  if (close->state == TcpState::CLOSE)
    h.conflict = fmt::format("its close ended it ({}), yet a sample at {:.1f} ms shows its timewait socket in {}",
                             h.end == SocketEnd::error ? "an error" : h.end == SocketEnd::reset ? "its own RST" : "no room",
                             std::chrono::duration<double, std::milli>((*first_tw)->at.time_since_epoch()).count(), state_name((*first_tw)->state));
  else if (close->state == TcpState::TIME_WAIT && (*first_tw)->state == TcpState::FIN_WAIT2)
    h.conflict = "its close had accepted the peer's FIN (TIME_WAIT), yet its timewait socket was sampled in FIN_WAIT_2";
}

// Ends a history the final sample no longer shows, names how each gone socket ended, and says
// when a timewait socket may have been in TIME_WAIT without any sample showing it.
void finish_history(const Trace& trace, StateHistory& h, const std::vector<StateHistory>& all) {
  if (h.steps.empty() || h.listener) return;
  const auto samples = samples_of_socket(trace, h);
  const auto final = final_sample(trace, h.side);
  const StateStep& last = h.steps.back();
  const bool full_closed = last.source == StateSource::traced && last.state == TcpState::CLOSE;
  if (final && !full_closed && last.state != TcpState::CLOSE && last.at < final->start &&
      std::none_of(samples.begin(), samples.end(), [&](const SocketEvent* e) { return e->at == final->start; }))
    h.steps.push_back({final->start, TcpState::CLOSE, StateSource::sampled, std::nullopt});
  const StateStep& end = h.steps.back();
  if (end.state == TcpState::CLOSE && end.source == StateSource::sampled && h.end == SocketEnd::open) {
    const SocketEvent* before = nullptr;
    for (const SocketEvent* e : samples)
      if (e->at < end.at && e->state != TcpState::CLOSE) before = e;
    h.end = why_gone(trace, h, all, before, end.at);
  }
  note_conflict(trace, h, samples);
  if (!h.timewait_unknown.empty() || h.reached(TcpState::TIME_WAIT) || trace.kernel_source != KernelSource::traced)
    return;
  // A timewait socket in FIN_WAIT_2 turns TIME_WAIT when the peer's FIN comes, unseen by any
  // tracepoint: only a sample showing it still in FIN_WAIT_2 at the end, or its timer running out, says it never did.
  const auto handed = h.handed_over();
  const auto tw = std::find_if(h.steps.begin(), h.steps.end(), [&](const StateStep& s) {
    return handed && s.at >= *handed && s.state == TcpState::FIN_WAIT2 && s.source != StateSource::inferred;
  });
  if (tw == h.steps.end() || h.end == SocketEnd::timer) return;
  const bool still_there = final && std::any_of(samples.begin(), samples.end(), [&](const SocketEvent* e) {
                             return e->at == final->start && e->state == TcpState::FIN_WAIT2;
                           });
  if (!still_there)
    h.timewait_unknown = fmt::format("its timewait socket, in FIN_WAIT_2 from {:.1f} ms, was gone by the end, and "
                                     "no sample shows whether the peer's FIN made it TIME_WAIT first",
                                     std::chrono::duration<double, std::milli>(tw->at.time_since_epoch()).count());
}

// A state `h` cannot have been in, given the states sampled (neither leads to the other on one
// socket, on the kernel's state diagram).
bool ruled_out(const StateHistory& h, TcpState s) {
  for (const StateStep& x : h.steps) {
    if (x.state == TcpState::CLOSE || x.state == TcpState::LISTEN || x.source == StateSource::inferred) continue;
    if (!legal_transition(x.state, s) && !legal_transition(s, x.state)) return true;
  }
  return false;
}

// What a shown step rests on, with where its start came from when that was the wire.
std::string step_note(const ShownStep& s) {
  std::string note(source_words(s.source));
  if (s.from_wire)
    note += fmt::format("; from the {}'s arrival on the wire", s.state == TcpState::SYN_RECV ? "SYN" : "FIN");
  return note;
}

}  // namespace

bool StateHistory::reached(TcpState s) const {
  return std::any_of(steps.begin(), steps.end(),
                     [s](const StateStep& x) { return x.state == s && x.source != StateSource::inferred; });
}

std::vector<TcpState> StateHistory::states() const {
  std::vector<TcpState> out;
  for (const StateStep& s : steps) out.push_back(s.state);
  return out;
}

std::optional<Instant> StateHistory::handed_over() const {
  for (const StateStep& s : steps)
    if (s.source == StateSource::handover) return s.at;
  return std::nullopt;
}

std::vector<const SocketEvent*> samples_of_socket(const Trace& trace, const StateHistory& h) {
  std::vector<const SocketEvent*> out;
  for (const TraceEvent& ev : trace.events) {
    const auto* e = std::get_if<SocketEvent>(&ev);
    if (!e || e->side != h.side) continue;
    const bool same = h.cookie != 0 ? e->cookie == h.cookie
                                    : e->local_port == h.local_port && e->remote_port == h.remote_port &&
                                          (!h.connection || !e->connection || *e->connection == *h.connection);
    if (same) out.push_back(e);
  }
  return out;
}

std::vector<StateHistory> state_histories(const Trace& trace) {
  auto out = trace.kernel_source == KernelSource::traced ? traced_histories(trace) : sampled_histories(trace);
  for (StateHistory& h : out) {
    add_request_wire_start(trace, h);
    infer_timewait(trace, h);
    finish_history(trace, h, out);
  }
  return out;
}

namespace {

// How many timewait sockets the side's kernel made over the run: tcp_time_wait counts each in
// TcpExt.TW (timeout over 4 s) or TcpExt.TWKilled (4 s or less) as it schedules it. nullopt: not read.
std::optional<std::int64_t> timewait_sockets_made(const Trace& trace, Side side) {
  const auto& counters = trace.counters[side];
  if (!counters) return std::nullopt;
  const auto tw = counters->find("TcpExt.TW"), killed = counters->find("TcpExt.TWKilled");
  if (tw == counters->end() || killed == counters->end()) return std::nullopt;
  return tw->second + killed->second;
}

}  // namespace

namespace {

// The evidence the states give, before any counter is asked.
StateEvidence evidence_of_states(const Trace& trace, Side side, const std::vector<StateHistory>& histories,
                                 TcpState s) {
  if (histories.empty()) return {Evidence::unknown, fmt::format("no socket of the {} observed", side_name(side))};
  if (trace.kernel_source == KernelSource::traced) {
    if (s == TcpState::TIME_WAIT || s == TcpState::FIN_WAIT2)
      for (const StateHistory& h : histories)
        if (!h.timewait_unknown.empty()) return {Evidence::unknown, h.timewait_unknown};
    return {Evidence::not_seen, ""};
  }
  if (std::all_of(histories.begin(), histories.end(), [&](const StateHistory& h) { return ruled_out(h, s); }))
    return {Evidence::not_seen, ""};
  return {Evidence::unknown, fmt::format("{} was never sampled, and {}", state_name(s), sampling_note)};
}

}  // namespace

StateEvidence state_evidence(const Trace& trace, Side side, const std::vector<StateHistory>& histories,
                             TcpState s) {
  for (const StateHistory& h : histories)
    if (h.reached(s)) return {Evidence::seen, ""};
  StateEvidence e = evidence_of_states(trace, side, histories, s);
  // The kernel made no timewait socket on this side at all: no TIME_WAIT, whatever was sampled.
  if (e.evidence == Evidence::unknown && s == TcpState::TIME_WAIT && timewait_sockets_made(trace, side) == 0)
    return {Evidence::not_seen, "TcpExt.TW +0 and TcpExt.TWKilled +0: the kernel made no timewait socket"};
  return e;
}

bool off_the_wire(const WirePorts& wire, const StateHistory& h) {
  return !h.connection && !h.listener && wire.off_the_wire(h.side, h.local_port, h.remote_port);
}

std::vector<StateHistory> on_wire_histories(const Trace& trace) {
  auto histories = state_histories(trace);
  const WirePorts wire(trace);
  std::erase_if(histories, [&](const StateHistory& h) { return off_the_wire(wire, h); });
  return histories;
}

std::vector<StateHistory> side_histories(const Trace& trace, Side side) {
  auto histories = on_wire_histories(trace);
  std::erase_if(histories, [&](const StateHistory& h) { return h.side != side || h.listener; });
  return histories;
}

std::string history_text(const StateHistory& h) {
  if (h.listener) return fmt::format("{} listener {}", side_name(h.side), h.local_port);
  if (h.request) return fmt::format("{} request socket {}←{}", side_name(h.side), h.local_port, h.remote_port);
  return fmt::format("{} socket {}→{}", side_name(h.side), h.local_port, h.remote_port);
}

std::string state_label(TcpState state, SocketForm form) {
  switch (form) {
    case SocketForm::full: break;
    case SocketForm::request: return fmt::format("request socket in {}", state_name(state));
    case SocketForm::timewait: return fmt::format("timewait socket in {}", state_name(state));
  }
  return std::string(state_name(state));
}

std::string_view source_words(StateSource source) {
  switch (source) {
    case StateSource::traced: return "traced";
    case StateSource::sampled: return "sampled";
    case StateSource::handover: return "handed over at its traced close";
    case StateSource::inferred: return "inferred from the wire";
  }
  return "";
}

std::vector<ShownStep> shown_steps(const StateHistory& h) {
  std::vector<ShownStep> out;
  for (std::size_t i = 0; i < h.steps.size(); ++i) {
    const StateStep& s = h.steps[i];
    ShownStep shown{s.state, s.form, s.source, s.wire_start.value_or(s.at), s.at, s.wire_start.has_value()};
    // An inference the kernel confirmed next: one state, begun on the wire, resting on the evidence.
    if (s.source == StateSource::inferred && i + 1 < h.steps.size() && h.steps[i + 1].state == s.state &&
        h.steps[i + 1].form == s.form && h.steps[i + 1].source != StateSource::inferred) {
      shown.source = h.steps[i + 1].source;
      shown.evidence_at = h.steps[i + 1].at;
      shown.from_wire = true;
      ++i;
    }
    out.push_back(shown);
  }
  return out;
}

std::string shown_step_text(const ShownStep& s) { return fmt::format("{} ({})", state_label(s.state, s.form), step_note(s)); }

std::string steps_text(const StateHistory& h) {
  const auto shown = shown_steps(h);
  std::string out;
  for (std::size_t i = 0; i < shown.size(); ++i) {
    if (!out.empty()) out += " → ";
    out += state_label(shown[i].state, shown[i].form);
    // The source once after a run of steps that share it; a start from the wire is its step's own.
    const std::string note = step_note(shown[i]);
    if (shown[i].from_wire || i + 1 == shown.size() || shown[i + 1].from_wire || step_note(shown[i + 1]) != note)
      out += " (" + note + ")";
  }
  return out.empty() ? "no states observed" : out;
}

}  // namespace lastack
