// Wireshark reads lastack's pcapng as lastack does: over every shipped policy (IPv4 and IPv6),
// tshark's own TCP analysis flags a retransmission exactly where the kernel retransmitted (the
// role lastack gives from the kernel's events) and a RST exactly where an endpoint sent one.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/lab/lastack_process.hpp"

namespace fs = std::filesystem;
using lastack::test::run_process;

namespace {

// One wire event of a JSON trace, as the comparison needs it.
struct Segment {
  std::string from, flags;
  std::size_t connection = 0;
  bool retransmission = false, injected = false;
};

std::vector<Segment> endpoint_segments(const fs::path& trace) {
  std::vector<Segment> out;
  std::ifstream in(trace);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.value("type", "") != "wire" || j.at("injected").get<bool>()) continue;
    Segment s{j.at("from"), j.at("flags"), j.at("connection"), false, false};
    for (const auto& role : j.at("roles")) s.retransmission = s.retransmission || role == "retransmission";
    out.push_back(s);
  }
  return out;
}

// tshark's fields per frame of the endpoints' interface: retransmission flagged, RST set, and
// "suspected out-of-order" (tshark's name for a segment below the highest sequence number seen
// that comes within its RTT estimate of the one before).
struct Frame {
  bool retransmission = false, reset = false;
  bool out_of_order = false;  // tcp.analysis.out_of_order: Wireshark's guess from timing
};

std::vector<Frame> tshark_frames(const fs::path& pcap) {
  const auto r = run_process({"tshark", "-r", pcap.string(), "-Y", "frame.interface_id == 0", "-T", "fields", "-e",
                              "tcp.analysis.retransmission", "-e", "tcp.analysis.fast_retransmission", "-e",
                              "tcp.analysis.spurious_retransmission", "-e", "tcp.flags.reset", "-e",
                              "tcp.analysis.out_of_order", "-E", "occurrence=f"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<Frame> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, '\t');) fields.push_back(cell);
    fields.resize(5);
    out.push_back({!fields[0].empty() || !fields[1].empty() || !fields[2].empty(), fields[3] == "1" || fields[3] == "True",
                   !fields[4].empty()});
  }
  return out;
}

// Wireshark's first known misreading: a simultaneous open's SYN-ACK repeats its sender's own SYN's
// sequence number, and Wireshark calls that a retransmission; the kernel sent it once.
bool simultaneous_open_synack(const std::vector<Segment>& segments, std::size_t i) {
  const Segment& s = segments[i];
  if (s.flags.find('S') == std::string::npos || s.flags.find('.') == std::string::npos) return false;
  for (std::size_t k = 0; k < i; ++k)
    if (segments[k].connection == s.connection && segments[k].from == s.from && segments[k].flags == "S") return true;
  return false;
}

std::vector<std::string> disagreements(const fs::path& pcap, const fs::path& trace) {
  const auto segments = endpoint_segments(trace);
  const auto frames = tshark_frames(pcap);
  std::vector<std::string> out;
  if (segments.size() != frames.size())
    return {fmt::format("{} frames on the endpoints' interface, {} endpoint segments in the trace", frames.size(),
                        segments.size())};
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const Segment& s = segments[i];
    const bool rst = s.flags.find('R') != std::string::npos;
    if (frames[i].reset != rst)
      out.push_back(fmt::format("frame {}: tshark says RST {}, the trace says {}", i + 1, frames[i].reset, rst));
    if (frames[i].retransmission == s.retransmission) continue;
    if (frames[i].retransmission && simultaneous_open_synack(segments, i)) continue;
    // Wireshark's other guess: a segment below the next expected sequence number that comes
    // within its estimate of the round trip is "out of order", not a retransmission. Over
    // slow-link's 100 ms round trip a loss recovery's retransmissions all come that soon, and in
    // dark-window a fast retransmission follows new segments closely; the kernel says what they were.
    if (!frames[i].retransmission && frames[i].out_of_order && s.retransmission) continue;
    out.push_back(fmt::format("frame {} ({} from {}, connection {}): tshark {} it a retransmission, the kernel {}", i + 1,
                              s.flags, s.from, s.connection + 1, frames[i].retransmission ? "calls" : "does not call",
                              s.retransmission ? "retransmitted it" : "did not retransmit it"));
  }
  return out;
}

void compare_every_policy(const std::vector<std::string>& extra, const std::string& family) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("lastack-tshark-{}-{}", ::getpid(), family);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<std::string> args{"run", "--all", "-q", "-j", "3", "--pcap", dir.string() + "/", "--json", dir.string() + "/"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = lastack::test::run_lastack(args);
  INFO(r.out.substr(r.out.size() > 3000 ? r.out.size() - 3000 : 0) << r.err);
  REQUIRE(r.exit_code == 0);
  std::size_t compared = 0;
  std::vector<std::string> wrong;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".pcapng") continue;
    fs::path trace = entry.path();
    trace.replace_extension(".jsonl");
    ++compared;
    for (const auto& d : disagreements(entry.path(), trace)) wrong.push_back(entry.path().stem().string() + ": " + d);
  }
  CHECK(compared >= 36);
  for (const auto& w : wrong) UNSCOPED_INFO(w);
  CHECK(wrong.empty());
  if (wrong.empty()) fs::remove_all(dir);
}

}  // namespace

TEST_CASE("tshark flags retransmissions and RSTs where the kernel made them, every shipped policy, IPv4",
          "[pcap][tshark]") {
  compare_every_policy({}, "ipv4");
}

TEST_CASE("tshark flags retransmissions and RSTs where the kernel made them, every shipped policy, IPv6",
          "[pcap][tshark]") {
  compare_every_policy({"-6"}, "ipv6");
}
