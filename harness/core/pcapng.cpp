// The trace's wire events as pcapng (the IETF draft "PCAP Next Generation Dump File Format"):
// section header, one LINKTYPE_RAW interface, one Enhanced Packet Block per segment.
#include "harness/core/pcapng.hpp"
#include "harness/core/trace_query.hpp"

#include <algorithm>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace lastack {
namespace {

constexpr std::uint32_t section_header_block = 0x0A0D0D0A;
constexpr std::uint32_t interface_description_block = 0x00000001;
constexpr std::uint32_t enhanced_packet_block = 0x00000006;
constexpr std::uint32_t byte_order_magic = 0x1A2B3C4D;
constexpr std::uint64_t section_length_unknown = ~std::uint64_t{0};
constexpr std::uint16_t linktype_raw = 101;  // bare IPv4 or IPv6, told apart by the version nibble
constexpr std::uint32_t no_snaplen = 0;      // pcapng: zero means no limit

constexpr std::uint16_t opt_endofopt = 0, opt_comment = 1;
constexpr std::uint16_t shb_os = 3, shb_userappl = 4;
constexpr std::uint16_t if_name = 2, if_description = 3;
constexpr std::size_t max_option_length = 0xFFFF;  // the option length field is 16 bits

void put_le(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void pad_to_32_bits(std::vector<std::uint8_t>& out) {
  while (out.size() % 4 != 0) out.push_back(0);
}

// Cut text to what an option can hold, never inside a UTF-8 sequence (comments must be UTF-8).
std::string_view fit_option(std::string_view text) {
  if (text.size() <= max_option_length) return text;
  std::size_t end = max_option_length;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

// The body of one block: fixed fields, then options, each padded to 32 bits.
class BlockBody {
 public:
  void u16(std::uint16_t v) { put_le(data_, v, 2); }
  void u32(std::uint32_t v) { put_le(data_, v, 4); }
  void u64(std::uint64_t v) { put_le(data_, v, 8); }
  void bytes(std::span<const std::uint8_t> b) {
    data_.insert(data_.end(), b.begin(), b.end());
    pad_to_32_bits(data_);
  }
  void option(std::uint16_t code, std::string_view text) {
    text = fit_option(text);
    u16(code);
    u16(static_cast<std::uint16_t>(text.size()));
    data_.insert(data_.end(), text.begin(), text.end());
    pad_to_32_bits(data_);
  }
  void end_options() {
    u16(opt_endofopt);
    u16(0);
  }
  const std::vector<std::uint8_t>& data() const { return data_; }

 private:
  std::vector<std::uint8_t> data_;
};

// Type, total length, body, total length again (so readers can walk backwards too).
void append_block(std::vector<std::uint8_t>& file, std::uint32_t type, const BlockBody& body) {
  const auto total = static_cast<std::uint32_t>(3 * 4 + body.data().size());
  put_le(file, type, 4);
  put_le(file, total, 4);
  file.insert(file.end(), body.data().begin(), body.data().end());
  put_le(file, total, 4);
}

std::string section_comment(const Trace& trace) {
  if (trace.whole_wire)
    return fmt::format(
        "lastack run of policy '{}' on Linux {} over {}. Every TCP segment as it entered the wire "
        "namespace (packet capture, kernel timestamps), headers only; a segment injected by "
        "lastack as it left; a held or delayed segment appears again when it left. Segments the "
        "kernel could not queue: {}.",
        trace.policy, trace.kernel.empty() ? "(unknown kernel)" : trace.kernel, trace.ipv6 ? "IPv6" : "IPv4",
        trace.queue_drops);
  return fmt::format(
      "lastack run of policy '{}' on Linux {} over {}. Segments as the interceptor in the wire "
      "namespace saw them, stamped at arrival; a held or delayed segment appears again when "
      "released. Captured bytes may stop after the headers (NFQUEUE copy range), and TCP "
      "checksums may be unverified (checksum offload leaves a partial sum). Segments the kernel "
      "could not queue: {}.",
      trace.policy, trace.kernel.empty() ? "(unknown kernel)" : trace.kernel,
      trace.ipv6 ? "IPv6" : "IPv4", trace.queue_drops);
}

void append_section_header(std::vector<std::uint8_t>& file, const Trace& trace) {
  BlockBody b;
  b.u32(byte_order_magic);
  b.u16(1);  // major version
  b.u16(0);  // minor version
  b.u64(section_length_unknown);
  b.option(opt_comment, section_comment(trace));
  if (!trace.kernel.empty()) b.option(shb_os, "Linux " + trace.kernel);
  b.option(shb_userappl, "lastack");
  b.end_options();
  append_block(file, section_header_block, b);
}

void append_interface(std::vector<std::uint8_t>& file) {
  BlockBody b;
  b.u16(linktype_raw);
  b.u16(0);  // reserved
  b.u32(no_snaplen);
  b.option(if_name, "wire");
  b.option(if_description, "lastack interceptor: NFQUEUE in the wire namespace");
  b.end_options();
  append_block(file, interface_description_block, b);
}

// One packet block to write: a segment's arrival, or the release of a held or delayed one.
struct PacketRecord {
  Instant at{};
  const WireEvent* event = nullptr;
  bool release = false;
};

std::vector<PacketRecord> packet_records(const Trace& trace) {
  std::vector<PacketRecord> records;
  for (const TraceEvent& e : trace.events) {
    const auto* w = std::get_if<WireEvent>(&e);
    if (!w) continue;
    records.push_back({w->at, w, false});
    // It only really crossed the wire when let go: Wireshark should see it there too.
    if ((w->delivered_at || w->released) && (w->fate == Fate::held || w->fate == Fate::delayed))
      records.push_back({arrival_time(*w), w, true});
  }
  std::stable_sort(records.begin(), records.end(),
                   [](const PacketRecord& a, const PacketRecord& b) { return a.at < b.at; });
  return records;
}

std::string packet_comment(const PacketRecord& r, bool whole_wire) {
  const WireEvent& w = *r.event;
  const std::string roles = w.info.roles.empty() ? "no role" : w.info.roles.str();
  std::string what = !w.note.empty() ? w.note
                     : w.injected    ? std::string("injected by lastack")
                                     : std::string(fate_name(w.fate));
  if (whole_wire && !w.queued && !w.injected && w.note.empty()) what += " (not queued)";
  if (r.release) what = "released: " + what;
  return roles + " | " + what;
}

void append_packet(std::vector<std::uint8_t>& file, const Trace& trace, const PacketRecord& r) {
  const WireEvent& w = *r.event;
  const auto since_epoch = trace.wall_start.time_since_epoch() + r.at;
  const auto micros = std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count());
  const auto stamp = static_cast<std::uint64_t>(micros);
  const auto captured = static_cast<std::uint32_t>(w.bytes.size());
  BlockBody b;
  b.u32(0);  // interface id
  b.u32(static_cast<std::uint32_t>(stamp >> 32));
  b.u32(static_cast<std::uint32_t>(stamp & 0xFFFFFFFFu));
  b.u32(captured);
  b.u32(std::max(w.wire_length, captured));  // pcapng requires original >= captured
  b.bytes(w.bytes);
  b.option(opt_comment, packet_comment(r, trace.whole_wire));
  b.end_options();
  append_block(file, enhanced_packet_block, b);
}

}  // namespace

std::vector<std::uint8_t> pcapng_bytes(const Trace& trace) {
  std::vector<std::uint8_t> file;
  append_section_header(file, trace);
  append_interface(file);
  for (const PacketRecord& r : packet_records(trace)) append_packet(file, trace, r);
  return file;
}

void write_pcapng(const Trace& trace, std::ostream& out) {
  const auto file = pcapng_bytes(trace);
  out.write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
}

}  // namespace lastack
