#pragma once
// The trace's wire events as a pcapng capture, for Wireshark and tshark: the packets as the
// interceptor saw them, each with a comment naming its roles and what the wire did to it.
#include <cstdint>
#include <ostream>
#include <vector>

#include "lastack/trace.hpp"

namespace lastack {

/// The wire events of `trace` as a pcapng file (little-endian): a section header (application
/// "lastack", a comment naming the policy and kernel), one interface (LINKTYPE_RAW: raw IPv4/IPv6,
/// microsecond timestamps), then one Enhanced Packet Block per wire event in time order,
/// timestamped trace.wall_start + at, captured length bytes.size(), original length wire_length,
/// comment "<roles> | <fate or note>" ("ack,final-ack | dropped by fault 1: final-ack").
/// A delayed or held segment gets a second block at its release time ("... | released: <note>").
std::vector<std::uint8_t> pcapng_bytes(const Trace& trace);

/// Write pcapng_bytes(trace) to `out`.
void write_pcapng(const Trace& trace, std::ostream& out);

}  // namespace lastack
