#pragma once
// The interceptor: the wire's NFQUEUE driven by Asio. Each queued segment is parsed, classified
// by the flow tracker, decided by the engine, logged as a WireEvent, and given its verdict.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "harness/core/decide/decision.hpp"
#include "harness/core/decide/link_model.hpp"
#include "harness/core/decide/segment_fate.hpp"
#include "lastack/flow_tracker.hpp"
#include "lastack/trace.hpp"
#include "harness/engine/run_clock.hpp"
#include "lastack/asio.hpp"
#include "harness/sys/net/nfqueue.hpp"
#include "harness/sys/net/raw_injector.hpp"

namespace lastack {

class Interceptor {
 public:
  /// `on_segment` is told about every segment after its decision (lab actions hook in here);
  /// `seed` is the run's, for the policy's probabilistic faults.
  Interceptor(asio::io_context& io, const RunClock& clock, sys::NfQueuePort port,
              sys::RawInjector injector, FlowTracker tracker, const Policy& policy, std::uint64_t seed,
              std::function<void(const WireEvent&)> on_segment);

  /// Start reading the queue.
  void start();
  /// Give a verdict to what is queued now, stop reading, and let every held or delayed
  /// segment go (the run is over).
  void stop();

  /// Send a hand-made IP packet on the wire (it leaves through OUTPUT, so it is never queued)
  /// and log it as a WireEvent classified like any segment, fate passed, packet id 0, `note`.
  /// Throws HarnessError when it is not a TCP segment or cannot be sent.
  void inject(std::span<const std::uint8_t> ip_packet, std::string note);
  /// Send lastack's own segment (`kind`, seemingly from side `from`) as inject() does, across
  /// the [link] when there is one (core's own_crossing: a held copy, a RST): injected when the
  /// link's schedule lets it go, its WireEvent carrying that passage.
  void send_own(std::vector<std::uint8_t> ip_packet, std::string note, OwnSegment kind, Side from);

  /// Nothing still delayed or held (by a fault or the link), and no duplicate's copies waiting.
  bool idle() const { return waiting_.empty() && held_copies_.empty() && on_link_.empty(); }
  /// When the next delayed or held segment (or held copies, or a segment on the link) is due to
  /// go by its deadline; nullopt when none has one (a hold waiting for its `until` only).
  std::optional<Instant> next_release() const;
  /// Every segment seen, in arrival order.
  const std::deque<WireEvent>& events() const { return events_; }
  /// Hand the log over (end of run): a bulk run logs tens of thousands of segments.
  std::vector<WireEvent> take_events();
  /// The kernel's count of segments it could not queue (queue full, or no listener).
  std::uint64_t queue_drops() const;
  /// What went wrong in the interceptor (kind harness_error): packets it could not parse,
  /// copies it could not make, and, as of now, verdicts the kernel refused and receive overruns.
  std::vector<LabEvent> harness_errors() const;
  /// `--control`: add a fault, on from now (its index among the run's faults, returned), or
  /// switch one off from now (decide/decision); set the link from now (its queues kept).
  std::size_t add_fault(FaultRule rule, Instant now) { return engine_.add_fault(std::move(rule), now); }
  void remove_fault(std::size_t fault, Instant now) { engine_.remove_fault(fault, now); }
  void set_link(const Link& link);
  /// Every fault of the run: the policy's, then those control added.
  const std::vector<FaultRule>& faults() const { return engine_.rules(); }
  /// The link now (none: a plain wire).
  std::optional<Link> link() const;
  /// How many segments fault `fault` acted on so far.
  std::size_t acted_on(std::size_t fault) const;

  /// Where the faults' windows opened and closed, up to the run's end (stop) or now, and a note
  /// for each window that never opened.
  std::vector<LabEvent> window_events() const;

 private:
  void wait_readable();
  void on_readable();
  void handle(const sys::QueuedPacket& packet);
  void refuse(const sys::QueuedPacket& packet, const std::string& why);
  void flush_passes();
  void release_due();
  void arm_timer();
  void release(const Release& r);
  /// The harness error for a fault the run ended before carrying out.
  LabEvent not_carried_out(const Release& r) const;
  /// Send the RSTs a reset fault (index `fault`) puts in place of `replaced`; a RST that cannot
  /// be sent is a harness error.
  void send_resets(const WireEvent& replaced, std::size_t fault);
  /// Inject a duplicate's held copies (or, once the run stopped, note that they were never sent).
  void release_copies(const Release& r);
  /// Put the segment of events_[event] (queue id `packet`, whose verdict would be `verdict`: pass
  /// or accept) on the link at `now`: the verdict it gets now (pass, accept or drop), or wait.
  /// `copy_notes`: the copies a fault made of it, which follow it across the link (one note each).
  QueueVerdict onto_link(std::size_t event, std::uint64_t packet, std::span<const std::uint8_t> payload,
                         std::uint32_t length, QueueVerdict verdict, Instant now, std::vector<std::string> copy_notes);
  /// Let go the segments the link's schedule has made due by now (all of them once stopping).
  void release_link_due(bool all);

  asio::io_context& io_;
  const RunClock& clock_;
  sys::NfQueuePort port_;
  sys::RawInjector injector_;
  FlowTracker tracker_;
  DecisionEngine engine_;
  const Policy& policy_;
  std::function<void(const WireEvent&)> on_segment_;
  asio::posix::stream_descriptor socket_;
  asio::steady_timer timer_;
  std::deque<WireEvent> events_;  // grows in place: a vector's regrowth moved every event on the wire's path
  std::unordered_map<std::uint64_t, std::size_t> waiting_;  // packet id -> index in events_
  struct HeldCopies {
    std::size_t event = 0;             // the original's index in events_
    std::vector<std::uint8_t> packet;  // the IP packet, to inject when released
    std::uint32_t count = 0;
  };
  std::unordered_map<std::uint64_t, HeldCopies> held_copies_;  // packet id -> a duplicate's waiting copies
  std::optional<LinkModel> link_;  // the policy's [link], when it does anything, or control's
  std::uint64_t seed_ = 0;
  struct OnLink {
    std::uint64_t packet = 0;
    std::size_t event = 0;               // its index in events_
    std::vector<std::uint8_t> copy;      // copies follow it: the IP packet to inject after it...
    std::vector<std::string> copy_notes; // ...once per note (a fault's copies, the link's own)
    // lastack's own segment on the link (send_own): these bytes are injected when due, no
    // queued packet is let go (packet and event unused).
    std::optional<LinkPassage> own;
    Instant since{};  // own: when lastack sent it onto the link
  };
  /// Inject lastack's own segment `held` off the link, due at `due` (once stopped: never sent,
  /// a harness error: what it was to do was not done).
  void release_own(OnLink& held, Instant due, Instant now);
  std::multimap<Instant, OnLink> on_link_;  // by due time; equal dues keep their arrival order
  std::vector<std::uint32_t> passed_;  // passes not yet sent, in queue order (reused per burst)
  std::vector<LabEvent> errors_;
  bool stopped_ = false;
  Instant stopped_at_{};
  bool draining_ = false;  // stop(): segments still get verdicts, lab actions no longer fire
};

}  // namespace lastack
