#include "harness/engine/interceptor.hpp"

#include "harness/core/decide/segment_fate.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "harness/core/wire/reset_segment.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "lastack/error.hpp"
#include "lastack/segment.hpp"

namespace lastack {

namespace {
// What the trace keeps of a segment's bytes: its headers, as a header-only copy range or the
// packet capture gives them. A policy that duplicates data copies whole packets out of the
// queue, but only the held copies need their payload; keeping every payload too would fill
// megabytes of fresh memory during the run (stale-duplicate: ~25 MB, whose page faults made a
// process's first run several times slower than the next).
constexpr std::size_t kTraceBytes = 128;
// The most segments the link holds per direction: two of them stay under the kernel's queue
// length (nfqueue's 4096), so the kernel never drops what the link would have carried.
constexpr std::size_t kLinkMaxHeld = 1800;

std::span<const std::uint8_t> traced(std::span<const std::uint8_t> packet) {
  return packet.first(std::min(packet.size(), kTraceBytes));
}
}  // namespace

Interceptor::Interceptor(asio::io_context& io, const RunClock& clock, sys::NfQueuePort port,
                         sys::RawInjector injector, FlowTracker tracker, const Policy& policy, std::uint64_t seed,
                         std::function<void(const WireEvent&)> on_segment)
    : io_(io),
      clock_(clock),
      port_(std::move(port)),
      injector_(std::move(injector)),
      tracker_(std::move(tracker)),
      engine_(policy.faults, policy.scenario.per_connection(), seed),
      policy_(policy),
      on_segment_(std::move(on_segment)),
      socket_(io, ::dup(port_.fd())),
      timer_(io),
      seed_(seed) {
  passed_.reserve(256);
  if (policy.link && policy.link->active()) link_.emplace(*policy.link, seed, kLinkMaxHeld);
}

std::vector<WireEvent> Interceptor::take_events() {
  std::vector<WireEvent> out(std::make_move_iterator(events_.begin()), std::make_move_iterator(events_.end()));
  events_.clear();
  return out;
}

void Interceptor::start() { wait_readable(); }

void Interceptor::stop() {
  if (stopped_) return;
  // What the endpoints sent up to now belongs to the run: decide it rather than leave it
  // queued, where the kernel would drop it when the queue is unbound.
  draining_ = true;
  for (int round = 0; round < 4; ++round) {
    passed_.clear();
    const std::size_t n = port_.receive([this](const sys::QueuedPacket& p) { handle(p); });
    flush_passes();
    if (n == 0) break;
  }
  stopped_ = true;
  stopped_at_ = clock_.now();
  timer_.cancel();
  socket_.cancel();
  // A fault the run ended before carrying out changed the wire otherwise than asked: the run
  // proves nothing about it (the segment goes now, into the teardown; copies are never sent).
  for (const Release& r : engine_.release_all()) {
    errors_.push_back(not_carried_out(r));
    release(r);
  }
  // Segments still on the link when the run ends go now, into the teardown (a real path would
  // still deliver them): the schedule did not change the run's story.
  release_link_due(true);
}

LabEvent Interceptor::not_carried_out(const Release& r) const {
  const auto held = held_copies_.find(r.packet);
  const auto waiting = waiting_.find(r.packet);
  const std::size_t index = held != held_copies_.end() ? held->second.event : waiting != waiting_.end() ? waiting->second : 0;
  const WireEvent& ev = events_.at(index);
  const std::string what = r.copies ? "the copies of" : ev.fate == Fate::delayed ? "the delayed" : "the held";
  return {clock_.now(),
          fmt::format("harness error: fault {} could not be carried out: the run ended before {} {} (packet {}, "
                      "{} ms after it entered the wire) {}",
                      r.fault + 1, what, segment_text(ev), r.packet,
                      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - ev.at).count(),
                      r.copies ? "were sent" : "could be let go as the fault asked"),
          LabEventKind::harness_error, std::nullopt, 1, HarnessCause::fault_not_carried_out};
}

std::uint64_t Interceptor::queue_drops() const {
  auto s = port_.stats();
  return s.queue_dropped + s.user_dropped;
}

std::vector<LabEvent> Interceptor::harness_errors() const {
  std::vector<LabEvent> out = errors_;
  const Instant now = clock_.now();
  if (const auto n = port_.verdict_errors(); n > 0)
    out.push_back({now, fmt::format("harness error: the kernel refused {} NFQUEUE verdict{}", n, n == 1 ? "" : "s"),
                   LabEventKind::harness_error, std::nullopt, n, HarnessCause::verdict_refused});
  if (const auto n = port_.receive_overruns(); n > 0)
    out.push_back({now,
                   fmt::format("harness error: the NFQUEUE socket overflowed {} time{}: queued packets were lost "
                               "to the interceptor",
                               n, n == 1 ? "" : "s"),
                   LabEventKind::harness_error, std::nullopt, n, HarnessCause::queue_overflow});
  return out;
}

void Interceptor::wait_readable() {
  socket_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted || stopped_) return;  // normal shutdown
    if (ec) throw HarnessError("NFQUEUE socket: " + ec.message());
    on_readable();
    wait_readable();
  });
}

void Interceptor::on_readable() {
  passed_.clear();
  port_.receive([this](const sys::QueuedPacket& p) { handle(p); });
  flush_passes();
  release_due();
  arm_timer();
}

void Interceptor::flush_passes() {
  if (passed_.empty()) return;
  // One batch verdict covers every id up to the last pass, but it would also release held or
  // delayed segments queued before it: batch only when nothing is waiting.
  if (waiting_.empty() && on_link_.empty())
    port_.accept_up_to(passed_.back());
  else
    for (auto id : passed_) port_.accept(id);
  passed_.clear();
}

void Interceptor::refuse(const sys::QueuedPacket& packet, const std::string& why) {
  // Fail closed: a packet the rules cannot judge never crosses unseen.
  flush_passes();
  port_.drop(packet.id);
  std::string first;
  for (std::size_t i = 0; i < std::min<std::size_t>(packet.payload.size(), 32); ++i)
    first += fmt::format("{:02x}", packet.payload[i]);
  errors_.push_back({clock_.now(),
                     fmt::format("harness error: queued packet {} cannot be parsed ({}), dropped: {} bytes, "
                                 "first {}",
                                 packet.id, why, packet.full_length, first.empty() ? "(none)" : first),
                     LabEventKind::harness_error, std::nullopt, 1, HarnessCause::unparsable_packet});
}

void Interceptor::handle(const sys::QueuedPacket& packet) {
  const Instant now = clock_.now();
  WireEvent ev;
  ev.at = now;
  ev.packet = packet.id;
  ev.queued = true;
  try {
    ev.segment = parse_segment(packet.payload);
  } catch (const ParseError& e) {
    return refuse(packet, e.what());
  }
  const auto kept = traced(packet.payload);
  ev.bytes.assign(kept.begin(), kept.end());
  ev.wire_length = packet.full_length;
  ev.info = tracker_.observe(ev.segment);
  const Decision d = engine_.decide(packet.id, ev.info, now);
  const SegmentFate f = segment_fate(d, engine_.rules(), packet.id, packet.payload.size(), packet.full_length);
  ev.fault = d.fault;
  ev.fate = f.fate;
  ev.note = f.note;
  ev.draws = d.draws;
  const std::size_t index = events_.size();
  const std::size_t fault = ev.fault.value_or(0);
  events_.push_back(std::move(ev));
  // Copies follow the original onto the wire (through OUTPUT, so not queued again), logged and
  // classified like any segment: the peer's answer to a copy is part of the story.
  const std::uint32_t copies = f.hold_copies ? 0 : f.copies;  // sent once the original is logged
  std::vector<std::string> copy_notes;
  for (std::uint32_t i = 1; i <= copies; ++i) copy_notes.push_back(fmt::format("copy {} of {} by fault {}", i, copies, fault + 1));
  QueueVerdict verdict = f.verdict;
  // On a link, the copies cross it behind their original (a copy sent now would overtake it).
  if (link_ && (verdict == QueueVerdict::pass || verdict == QueueVerdict::accept))
    verdict = onto_link(index, packet.id, packet.payload, packet.full_length, verdict, now, copy_notes);
  // A verdict must not overtake earlier passes in the queue: send them first.
  if (verdict != QueueVerdict::pass) flush_passes();
  switch (verdict) {
    case QueueVerdict::pass: passed_.push_back(packet.id); break;
    case QueueVerdict::accept: port_.accept(packet.id); break;
    case QueueVerdict::drop: port_.drop(packet.id); break;
    case QueueVerdict::wait:
      if (f.verdict == QueueVerdict::wait) waiting_[packet.id] = index;  // else it is on the link
      break;
  }
  if (f.hold_copies) held_copies_[packet.id] = {index, {packet.payload.begin(), packet.payload.end()}, f.copies};
  if (!f.error.empty())
    errors_.push_back({now, f.error, LabEventKind::harness_error, std::nullopt, 1, HarnessCause::fault_not_carried_out});
  if (on_segment_ && !draining_) on_segment_(events_[index]);
  if (f.reset) send_resets(events_[index], fault);  // the segment was dropped: RSTs in its place
  if (verdict == QueueVerdict::wait) return;  // on the link, or held by the fault: copies later, if any
  for (std::string& note : copy_notes) inject(packet.payload, std::move(note));
}

void Interceptor::send_resets(const WireEvent& replaced, std::size_t fault) {
  // The replaced segment was dropped after every pass before it, so each RST follows what its
  // receiver already has: its SEQ is that receiver's RCV.NXT.
  const Segment seg = replaced.segment;  // inject() grows events_: no reference into it survives
  const std::uint64_t packet = replaced.packet;
  for (const ResetFor& r : resets_replacing(seg, replaced.info.from, engine_.rules().at(fault).reset_to)) {
    const std::string note = fmt::format("RST to the {} by fault {}, in place of packet {}", side_name(r.to), fault + 1, packet);
    try {
      send_own(build_segment(r.rst), note, OwnSegment::reset, peer_of(r.to));
    } catch (const HarnessError& e) {
      errors_.push_back({clock_.now(), fmt::format("harness error: fault {} could not send its {}: {}", fault + 1, note, e.what()),
                         LabEventKind::harness_error, std::nullopt, 1, HarnessCause::fault_not_carried_out});
    }
  }
}

void Interceptor::inject(std::span<const std::uint8_t> ip_packet, std::string note) {
  WireEvent ev;
  ev.at = clock_.now();
  try {
    ev.segment = parse_segment(ip_packet);
  } catch (const ParseError& e) {
    throw HarnessError(fmt::format("inject: not a TCP segment: {}", e.what()));
  }
  // As sent: the injector completes the TCP checksum, and the capture matches on it.
  const auto sent = traced(injector_.inject(ip_packet));
  ev.bytes.assign(sent.begin(), sent.end());
  ev.wire_length = static_cast<std::uint32_t>(sent.size());
  // Classified only once sent: a segment that never left must not shape the roles of later ones.
  ev.info = tracker_.observe(ev.segment, true);
  ev.fate = Fate::passed;
  ev.injected = true;
  ev.note = std::move(note);
  events_.push_back(std::move(ev));
  if (on_segment_ && !draining_) on_segment_(events_.back());
}

void Interceptor::send_own(std::vector<std::uint8_t> ip_packet, std::string note, OwnSegment kind, Side from) {
  if (!link_ || own_crossing(kind) != OwnCrossing::carried) return inject(ip_packet, std::move(note));
  const Instant now = clock_.now();
  const LinkPassage p = link_->carry(from, static_cast<std::uint32_t>(ip_packet.size()), now);
  if (p.due <= now && on_link_.empty()) {  // nothing ahead of it: it goes now
    inject(ip_packet, std::move(note));
    events_.back().link = p;
    return;
  }
  on_link_.emplace(p.due, OnLink{0, 0, std::move(ip_packet), {std::move(note)}, p, now});
  arm_timer();  // it may be the earliest due
}

void Interceptor::release(const Release& r) {
  if (r.copies) return release_copies(r);
  auto it = waiting_.find(r.packet);
  if (it == waiting_.end()) return;
  const std::size_t index = it->second;
  waiting_.erase(it);
  WireEvent& ev = events_[index];
  ev.released = clock_.now();
  ev.note += fmt::format(" ({}, released after {:.0f} ms)", r.reason,
                         std::chrono::duration<double, std::milli>(*ev.released - ev.at).count());
  // Let go by the fault, it crosses the link like any segment (without its payload: no copy).
  QueueVerdict verdict = QueueVerdict::accept;
  if (link_ && !stopped_)
    verdict = onto_link(index, r.packet, {}, ev.wire_length, QueueVerdict::accept, *ev.released, {});
  if (verdict == QueueVerdict::drop) port_.drop(static_cast<std::uint32_t>(r.packet));
  else if (verdict != QueueVerdict::wait) port_.accept(static_cast<std::uint32_t>(r.packet));
}

std::optional<Instant> Interceptor::next_release() const {
  std::optional<Instant> next = engine_.next_deadline();
  if (!on_link_.empty() && (!next || on_link_.begin()->first < *next)) next = on_link_.begin()->first;
  return next;
}

QueueVerdict Interceptor::onto_link(std::size_t event, std::uint64_t packet, std::span<const std::uint8_t> payload,
                                    std::uint32_t length, QueueVerdict verdict, Instant now,
                                    std::vector<std::string> copy_notes) {
  WireEvent& ev = events_[event];
  const LinkPassage p = link_->admit(link_segment(ev.segment, ev.info, length), now);
  ev.link = p;
  const std::string note = link_note(p, link_->link().from[ev.info.from]);
  if (!note.empty()) ev.note += ev.note.empty() ? note : "; " + note;
  if (p.drop != LinkDrop::none) {
    ev.fate = Fate::dropped;  // the link's drop, counted as the link's: not a harness error
    return QueueVerdict::drop;
  }
  if (p.duplicated && payload.size() == length) {
    copy_notes.push_back(fmt::format("copy by the link, of packet {}", packet));
  } else if (p.duplicated) {
    ev.link->duplicated = false;
    ev.note += " (copy impossible: payload not captured)";
    errors_.push_back({now,
                       fmt::format("harness error: the link could not duplicate packet {}: only {} of {} bytes were queued",
                                   packet, payload.size(), length),
                       LabEventKind::harness_error, std::nullopt, 1, HarnessCause::fault_not_carried_out});
  }
  // Due now with nothing ahead of it on the link: it goes with the passes, in queue order.
  if (p.due <= now && on_link_.empty() && copy_notes.empty()) return verdict;
  std::vector<std::uint8_t> copy;
  if (!copy_notes.empty()) copy.assign(payload.begin(), payload.end());
  on_link_.emplace(p.due, OnLink{packet, event, std::move(copy), std::move(copy_notes)});
  return QueueVerdict::wait;
}

void Interceptor::release_link_due(bool all) {
  const Instant now = clock_.now();
  while (!on_link_.empty() && (all || on_link_.begin()->first <= now)) {
    OnLink held = std::move(on_link_.begin()->second);
    const Instant due = on_link_.begin()->first;
    on_link_.erase(on_link_.begin());
    if (held.own) {
      release_own(held, due, now);
      continue;
    }
    WireEvent& ev = events_[held.event];
    ev.released = now;
    if (due > now)
      ev.note += fmt::format("{}on the link when the run ended: let go {:.1f} ms early", ev.note.empty() ? "" : "; ",
                             std::chrono::duration<double, std::milli>(due - now).count());
    port_.accept(static_cast<std::uint32_t>(held.packet));
    if (!stopped_)
      for (std::string& note : held.copy_notes) inject(held.copy, std::move(note));
  }
}

void Interceptor::release_own(OnLink& held, Instant due, Instant now) {
  std::string& note = held.copy_notes.front();
  if (stopped_) {  // the run is over: sent now it would be wire the trace never shows
    errors_.push_back({now,
                       fmt::format("harness error: the run ended before lastack's segment crossed the link ({} ms "
                                   "still to go), so it was never sent: {}",
                                   std::chrono::duration_cast<std::chrono::milliseconds>(due - now).count(), note),
                       LabEventKind::harness_error, std::nullopt, 1, HarnessCause::fault_not_carried_out});
    return;
  }
  note += fmt::format(" (crossed the link in {:.1f} ms)", std::chrono::duration<double, std::milli>(now - held.since).count());
  try {
    inject(held.copy, std::move(note));
    events_.back().link = held.own;
    events_.back().released = now;
  } catch (const HarnessError& e) {
    errors_.push_back({now, fmt::format("harness error: lastack could not send its segment after the link: {}", e.what()),
                       LabEventKind::harness_error, std::nullopt, 1, HarnessCause::fault_not_carried_out});
  }
}

std::vector<LabEvent> Interceptor::window_events() const {
  const Instant until = stopped_ ? stopped_at_ : clock_.now();
  std::vector<LabEvent> out = lastack::window_events(engine_.rules(), engine_.window_edges(until));
  for (LabEvent& e : never_opened_notes(engine_.rules(), engine_.windows_never_opened(until), until))
    out.push_back(std::move(e));
  return out;
}

void Interceptor::set_link(const Link& link) {
  if (link_) link_->set_link(link);
  else if (link.active()) link_.emplace(link, seed_, kLinkMaxHeld);
}

std::optional<Link> Interceptor::link() const {
  if (!link_ || !link_->link().active()) return std::nullopt;
  return link_->link();
}

std::size_t Interceptor::acted_on(std::size_t fault) const {
  return static_cast<std::size_t>(
      std::count_if(events_.begin(), events_.end(), [fault](const WireEvent& e) { return e.fault == fault; }));
}

void Interceptor::release_copies(const Release& r) {
  auto it = held_copies_.find(r.packet);
  if (it == held_copies_.end()) return;
  const HeldCopies held = std::move(it->second);
  held_copies_.erase(it);
  const double waited = std::chrono::duration<double, std::milli>(clock_.now() - events_[held.event].at).count();
  if (stopped_) {  // the run is over: copies sent now would be wire the trace never shows
    events_[held.event].note += fmt::format(" (copies never sent: {} after {:.0f} ms)", r.reason, waited);
    return;
  }
  events_[held.event].note += fmt::format(" (copies {}, sent after {:.0f} ms)", r.reason, waited);
  const Side from = events_[held.event].info.from;
  for (std::uint32_t i = 1; i <= held.count; ++i)
    send_own(held.packet, fmt::format("held copy {} of {} by fault {}, of packet {} ({:.0f} ms old)", i, held.count,
                                      r.fault + 1, r.packet, waited),
             OwnSegment::held_copy, from);
}

void Interceptor::release_due() {
  for (const Release& r : engine_.due(clock_.now())) release(r);
  release_link_due(false);
}

void Interceptor::arm_timer() {
  auto next = next_release();
  if (!next || stopped_) return;
  timer_.expires_at(clock_.at(*next));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted || stopped_) return;
    release_due();
    arm_timer();
  });
}

}  // namespace lastack
