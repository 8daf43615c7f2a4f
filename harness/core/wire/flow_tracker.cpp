#include "lastack/flow_tracker.hpp"

#include <algorithm>
#include <array>
#include <optional>

namespace lastack {

namespace {

struct Endpoint {
  IpAddress addr;
  std::uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
};

// What one endpoint of a connection has sent so far.
struct Sender {
  std::optional<SeqNum> isn;       // from its SYN or SYN-ACK
  std::optional<SeqNum> high_end;  // highest seq_end seen (sequence numbers of pure ACKs count too)
  std::optional<SeqNum> fin_seq;   // the sequence number its FIN occupies
  bool fin_ack_due = false;        // a copy of its FIN was seen and the peer has not acknowledged it since
  bool fin_acked = false;          // the peer acknowledged its FIN at least once
};

// One connection (one incarnation of an endpoint pair). Endpoints are indexed 0/1 in order of
// appearance, so learning who the client is later only flips `client`.
struct Flow {
  std::array<Endpoint, 2> ends;
  std::array<Sender, 2> sent;
  std::size_t client = 0;  // index into ends
  bool client_by_address = false;  // a client namespace address named it: a SYN cannot rename it
  bool syn_seen = false;   // a SYN without ACK has named the client
  bool server_syn_ack_seen = false;
  bool handshake_acked = false;
  bool handshake_reack_due = false;  // the server retransmitted its SYN-ACK after the handshake ACK
  std::optional<std::size_t> first_closer;
  bool reset = false;

  /// 0 or 1 when `seg` travels between this flow's endpoints: the index of its sender.
  std::optional<std::size_t> sender_of(const Segment& seg) const {
    const Endpoint src{seg.src, seg.sport}, dst{seg.dst, seg.dport};
    if (ends[0] == src && ends[1] == dst) return 0;
    if (ends[1] == src && ends[0] == dst) return 1;
    return std::nullopt;
  }

  /// True when the close finished (both FINs acknowledged) or a RST ended the connection.
  bool finished() const { return reset || (sent[0].fin_acked && sent[1].fin_acked); }

  /// True when `seg`, from endpoint e, opens a new connection on this endpoint pair.
  bool starts_new_incarnation(const Segment& seg, std::size_t e) const {
    if (!seg.flags.syn() || seg.flags.ack()) return false;
    const Sender& me = sent[e];
    return me.isn ? *me.isn != seg.seq : finished();
  }

  /// False when `seg`'s numbers say it answers a different incarnation on the same endpoints: a
  /// SYN-ACK acknowledging another ISN, a bare RST not at the sender's next sequence number, an
  /// ACK below the peer's ISN.
  bool numbers_fit(const Segment& seg, std::size_t e) const {
    const Sender& me = sent[e];
    const Sender& peer = sent[1 - e];
    if (seg.flags.syn() && seg.flags.ack()) return peer.isn && seg.ack == *peer.isn + 1;
    if (seg.flags.rst() && !seg.flags.ack()) return me.high_end && seg.seq == *me.high_end;
    // An acknowledgment below the peer's ISN acknowledges an older incarnation's bytes (an old
    // duplicate data segment). Only the lower bound: a selective capture misses bytes above.
    if (seg.flags.ack() && !seg.flags.syn() && peer.isn) return !seg.ack.before(*peer.isn + 1);
    return true;
  }

  Classified classify(const Segment& seg, std::size_t e, bool injected);
};

bool is_retransmission(const Segment& seg, const Sender& me) {
  return seg.seq_space() > 0 && me.high_end && seg.seq.before(*me.high_end);
}

Classified Flow::classify(const Segment& seg, std::size_t e, bool injected) {
  const TcpFlags f = seg.flags;
  const std::size_t p = 1 - e;
  Sender& me = sent[e];
  Sender& peer = sent[p];
  RoleSet roles;

  if (f.syn() && !f.ack() && !syn_seen) {
    syn_seen = true;
    // In a simultaneous open both sides send a SYN: the namespace, when known, names the client.
    if (!client_by_address) client = e;
  }
  const Side from = e == client ? Side::client : Side::server;
  if (f.syn() && !me.isn) me.isn = seg.seq;

  const bool retransmission = !injected && is_retransmission(seg, me);
  if (!injected && (!me.high_end || seg.seq_end().after(*me.high_end))) me.high_end = seg.seq_end();

  if (f.syn()) roles.add(f.ack() ? Role::syn_ack : Role::syn);
  if (f.rst()) roles.add(Role::rst);
  if (f.fin()) roles.add(Role::fin);
  if (seg.payload_len > 0) roles.add(Role::data);
  const bool pure_ack = f.ack() && !f.syn() && !f.fin() && !f.rst() && seg.payload_len == 0;
  if (pure_ack) roles.add(Role::ack);
  if (retransmission) roles.add(Role::retransmission);

  // Handshake: the client's first acknowledgment of the SYN-ACK, and its answer to each later SYN-ACK copy.
  if (from == Side::server && f.syn() && f.ack()) {
    if (retransmission && handshake_acked) handshake_reack_due = true;
    server_syn_ack_seen = true;
  }
  if (from == Side::client && f.ack() && !f.syn() && !f.rst() && server_syn_ack_seen && peer.isn) {
    const SeqNum syn_ack_end = *peer.isn + 1;
    if (!handshake_acked && seg.ack == syn_ack_end) {
      roles.add(Role::handshake_ack);
      handshake_acked = true;
    } else if (handshake_acked && handshake_reack_due && pure_ack && seg.ack.at_or_after(syn_ack_end)) {
      roles.add(Role::handshake_ack);
      handshake_reack_due = false;
    }
  }

  // Close: each copy of a FIN seen earns one acknowledgment tag on the peer's first segment covering it.
  // Acknowledgments come before this segment's own FIN: a FIN+ACK can acknowledge the other FIN.
  if (f.ack() && !f.rst() && peer.fin_seq && seg.ack.at_or_after(*peer.fin_seq + 1)) {
    peer.fin_acked = true;
    if (peer.fin_ack_due) {
      roles.add(p == first_closer ? Role::first_fin_ack : Role::final_ack);
      peer.fin_ack_due = false;
    }
  }
  if (f.fin()) {
    if (!first_closer) first_closer = e;
    roles.add(e == *first_closer ? Role::first_fin : Role::second_fin);
    if (!me.fin_seq) me.fin_seq = seg.seq + seg.payload_len;
    me.fin_ack_due = true;
  }
  if (f.rst()) reset = true;

  Classified out;
  out.from = from;
  out.roles = roles;
  if (first_closer) out.first_closer = *first_closer == client ? Side::client : Side::server;
  out.rel_seq = me.isn ? seg.seq.raw() - me.isn->raw() : seg.seq.raw();
  // Without the ACK flag the acknowledgment field means nothing: keep it raw.
  out.rel_ack = f.ack() && peer.isn ? seg.ack.raw() - peer.isn->raw() : seg.ack.raw();
  return out;
}

}  // namespace

struct FlowTracker::Connection : Flow {};

FlowTracker::FlowTracker(std::vector<IpAddress> client_addresses) : client_addresses_(std::move(client_addresses)) {}
FlowTracker::~FlowTracker() = default;
FlowTracker::FlowTracker(FlowTracker&&) noexcept = default;
FlowTracker& FlowTracker::operator=(FlowTracker&&) noexcept = default;

namespace {

// One endpoint's bytes of a pair key: family, address, port (big-endian).
std::array<std::uint8_t, 19> endpoint_bytes(const IpAddress& a, std::uint16_t port) {
  std::array<std::uint8_t, 19> out{};
  out[0] = static_cast<std::uint8_t>(a.family);
  std::copy(a.bytes.begin(), a.bytes.end(), out.begin() + 1);
  out[17] = static_cast<std::uint8_t>(port >> 8);
  out[18] = static_cast<std::uint8_t>(port & 0xff);
  return out;
}

}  // namespace

// The same key for both directions: the smaller endpoint first.
FlowTracker::PairKey FlowTracker::pair_key(const Segment& seg) {
  auto a = endpoint_bytes(seg.src, seg.sport), b = endpoint_bytes(seg.dst, seg.dport);
  if (b < a) std::swap(a, b);
  PairKey key{};
  std::copy(a.begin(), a.end(), key.begin());
  std::copy(b.begin(), b.end(), key.begin() + a.size());
  return key;
}

std::size_t FlowTracker::PairKeyHash::operator()(const PairKey& k) const noexcept {
  std::size_t h = 1469598103934665603ULL;  // FNV-1a
  for (const std::uint8_t byte : k) h = (h ^ byte) * 1099511628211ULL;
  return h;
}

std::optional<std::size_t> FlowTracker::incarnation_of(const Segment& seg) const {
  // Newest first: a reused endpoint pair belongs to its latest incarnation, unless the segment's
  // numbers belong to an older one (the answer to an old duplicate SYN, and the RST it draws).
  const auto found = by_pair_.find(pair_key(seg));
  if (found == by_pair_.end()) return std::nullopt;
  std::optional<std::size_t> newest;
  for (auto it = found->second.rbegin(); it != found->second.rend(); ++it) {
    const std::size_t i = *it;
    const Connection& conn = connections_[i];
    const auto sender = conn.sender_of(seg);
    if (!sender) continue;
    if (!newest) {
      if (conn.starts_new_incarnation(seg, *sender)) return std::nullopt;
      newest = i;
    }
    if (conn.numbers_fit(seg, *sender)) return i;
  }
  return newest;
}

Classified FlowTracker::observe(const Segment& seg, bool injected) {
  if (const auto i = incarnation_of(seg)) {
    Connection& conn = connections_[*i];
    Classified out = conn.classify(seg, *conn.sender_of(seg), injected);
    out.connection = ConnectionIndex{*i};
    return out;
  }

  Connection conn;
  conn.ends = {Endpoint{seg.src, seg.sport}, Endpoint{seg.dst, seg.dport}};
  // Until a SYN names the client: a client address names it, else a SYN-ACK names the server.
  const auto is_client = [&](const IpAddress& a) {
    return std::find(client_addresses_.begin(), client_addresses_.end(), a) != client_addresses_.end();
  };
  conn.client_by_address = is_client(seg.src) || is_client(seg.dst);
  if (is_client(seg.src))
    conn.client = 0;
  else if (is_client(seg.dst) || (seg.flags.syn() && seg.flags.ack()))
    conn.client = 1;
  connections_.push_back(conn);
  by_pair_[pair_key(seg)].push_back(connections_.size() - 1);
  Classified out = connections_.back().classify(seg, 0, injected);
  out.connection = ConnectionIndex{connections_.size() - 1};
  return out;
}

std::size_t FlowTracker::connection_count() const { return connections_.size(); }

}  // namespace lastack
