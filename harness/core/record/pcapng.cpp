// The trace's wire events as pcapng (the IETF draft "PCAP Next Generation Dump File Format"):
// section header, two interfaces, one Enhanced Packet Block per segment. Each segment an endpoint
// sent appears once, when it entered the wire (when its sender sent it), on a LINKTYPE_RAW
// interface, so Wireshark's TCP analysis reads the endpoints' own conversation: a retransmission
// there is one the kernel made. What lastack made (copies, injected RSTs) goes on a second
// interface of LINKTYPE_USER0, which Wireshark shows but does not analyse as TCP (Decode As...).
#include "harness/core/record/pcapng.hpp"
#include "harness/core/trace/trace_query.hpp"

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
constexpr std::uint16_t linktype_user0 = 147;  // the same bytes, left out of the TCP analysis
constexpr std::uint32_t endpoints_interface = 0, lastack_interface = 1;
constexpr std::uint32_t no_snaplen = 0;      // pcapng: zero means no limit

constexpr std::uint16_t opt_endofopt = 0, opt_comment = 1;
constexpr std::uint16_t shb_os = 3, shb_userappl = 4;
constexpr std::uint16_t if_name = 2, if_description = 3, if_tsresol = 9;
constexpr std::uint8_t nanoseconds = 9;  // if_tsresol: 10^-9 s
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
        "lastack run of policy '{}' on Linux {} over {}. Interface 0: every TCP segment an endpoint "
        "sent, once, as it entered the wire namespace (packet capture, kernel timestamps, headers "
        "only); its comment says when it reached its receiver, or that it never did. Interface 1 "
        "(LINKTYPE_USER0, raw IP: Decode As IP to read it): segments made by lastack (copies, "
        "injected RSTs) as they left the wire, kept out of the TCP analysis of the endpoints' "
        "conversation. Segments the kernel could not queue: {}.",
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

void append_interface(std::vector<std::uint8_t>& file, std::uint16_t linktype, std::string_view name,
                      std::string_view description) {
  BlockBody b;
  b.u16(linktype);
  b.u16(0);  // reserved
  b.u32(no_snaplen);
  b.option(if_name, name);
  b.option(if_description, description);
  const std::uint8_t resolution[] = {nanoseconds};
  b.option(if_tsresol, std::string_view(reinterpret_cast<const char*>(resolution), 1));
  b.end_options();
  append_block(file, interface_description_block, b);
}

// Each wire event once: the endpoints' at the time they entered the wire, lastack's own at the
// time they left it.
std::vector<const WireEvent*> packets(const Trace& trace) {
  std::vector<const WireEvent*> out;
  for (const TraceEvent& e : trace.events)
    if (const auto* w = std::get_if<WireEvent>(&e)) out.push_back(w);
  return out;
}

std::string packet_comment(const WireEvent& w, bool whole_wire) {
  const std::string roles = w.info.roles.empty() ? "no role" : w.info.roles.str();
  std::string what = !w.note.empty() ? w.note : std::string(fate_name(w.fate));
  if (w.injected) return fmt::format("made by lastack: {} | {}", roles, w.note.empty() ? "injected" : w.note);
  if (whole_wire && !w.queued && w.note.empty()) what += " (not queued)";
  if (w.fate == Fate::dropped) what += " | never reached its receiver";
  else if (w.delivered_at)
    what += fmt::format(" | reached its receiver {:.3f} ms later",
                        std::chrono::duration<double, std::milli>(*w.delivered_at - w.at).count());
  return roles + " | " + what;
}

void append_packet(std::vector<std::uint8_t>& file, const Trace& trace, const WireEvent& w) {
  const auto since_epoch = trace.wall_start.time_since_epoch() + w.at.time_since_epoch();
  const auto stamp = static_cast<std::uint64_t>(std::max<std::int64_t>(0, since_epoch.count()));
  const auto captured = static_cast<std::uint32_t>(w.bytes.size());
  BlockBody b;
  b.u32(w.injected ? lastack_interface : endpoints_interface);
  b.u32(static_cast<std::uint32_t>(stamp >> 32));
  b.u32(static_cast<std::uint32_t>(stamp & 0xFFFFFFFFu));
  b.u32(captured);
  b.u32(std::max(w.wire_length, captured));  // pcapng requires original >= captured
  b.bytes(w.bytes);
  b.option(opt_comment, packet_comment(w, trace.whole_wire));
  b.end_options();
  append_block(file, enhanced_packet_block, b);
}

}  // namespace

std::vector<std::uint8_t> pcapng_bytes(const Trace& trace) {
  std::vector<std::uint8_t> file;
  append_section_header(file, trace);
  append_interface(file, linktype_raw, "wire", "what the endpoints sent, as it entered the wire namespace");
  append_interface(file, linktype_user0, "lastack",
                   "segments lastack made (copies, injected RSTs), raw IP: Decode As IP to read them");
  for (const WireEvent* w : packets(trace)) append_packet(file, trace, *w);
  return file;
}

void write_pcapng(const Trace& trace, std::ostream& out) {
  const auto file = pcapng_bytes(trace);
  out.write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
}

}  // namespace lastack
