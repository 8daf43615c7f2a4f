// `lastack run --html` rendered in a real browser (headless Chromium), and `--pcap` read by the
// reader people use (tshark): what they show must be what the trace says.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "lastack_process.hpp"

using lastack::test::run_lastack;
using lastack::test::run_process;

namespace {
namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A fresh directory for one test's files.
fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("lastack-test-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::size_t count(const std::string& text, const std::string& piece) {
  std::size_t n = 0;
  for (auto at = text.find(piece); at != std::string::npos; at = text.find(piece, at + piece.size())) ++n;
  return n;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The JSON trace's wire events, and the run header.
struct JsonTrace {
  nlohmann::json run;
  std::vector<nlohmann::json> wire;
};
JsonTrace read_jsonl(const fs::path& path) {
  JsonTrace t;
  for (const std::string& line : lines_of(slurp(path))) {
    auto j = nlohmann::json::parse(line);
    if (j["type"] == "run") t.run = j;
    if (j["type"] == "wire") t.wire.push_back(j);
  }
  return t;
}

bool have(const std::string& tool) { return run_process({"sh", "-c", "command -v " + tool}).exit_code == 0; }

// Chromium's DOM after loading `page` (scripts run), with its console on stderr.
lastack::test::ProcessOutput dump_dom(const fs::path& page) {
  return run_process({"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                      "--dump-dom", "file://" + page.string()});
}

// The part of `dom` that is the segment group holding `marker`.
std::string segment_group_with(const std::string& dom, const std::string& marker) {
  const auto at = dom.find(marker);
  if (at == std::string::npos) return "";
  const auto start = dom.rfind("<g class=\"seg ", at);
  const auto next = dom.find("<g class=\"seg ", at);
  return dom.substr(start, next == std::string::npos ? std::string::npos : next - start);
}

std::vector<std::string> tshark(const fs::path& file, std::vector<std::string> args) {
  std::vector<std::string> argv{"tshark", "-r", file.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = run_process(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return lines_of(r.out);
}
}  // namespace

TEST_CASE("lastack run --html: Chromium shows one arrow per segment, the dropped final ACK's cross, TIME_WAIT",
          "[html][policy]") {
  REQUIRE(have("chromium"));  // scripts/install-deps installs it
  const fs::path dir = scratch("html");
  const fs::path page = dir / "dfa.html", json = dir / "dfa.jsonl";
  const auto r = run_lastack({"run", "-q", "drop-final-ack", "--html", page.string(), "--json", json.string()});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  const JsonTrace trace = read_jsonl(json);
  REQUIRE(!trace.wire.empty());

  const auto browser = dump_dom(page);
  INFO(browser.err);
  REQUIRE(browser.exit_code == 0);
  const std::string& dom = browser.out;
  REQUIRE(dom.find("</html>") != std::string::npos);
  CHECK(dom.find("data-script-error=\"") == std::string::npos);  // the page's window.onerror marker
  CHECK(browser.err.find("Uncaught") == std::string::npos);
  CHECK(count(dom, "<g class=\"seg ") == trace.wire.size());

  std::size_t dropped = 0;
  for (const auto& w : trace.wire) dropped += w["fate"] == "dropped" ? 1 : 0;
  CHECK(dropped == 1);
  CHECK(count(dom, "data-fate=\"dropped\"") == dropped);
  const std::string final_ack = segment_group_with(dom, "data-fate=\"dropped\"");
  CHECK(final_ack.find("roles: ack,final-ack") != std::string::npos);
  CHECK(final_ack.find("<g class=\"cross\">") != std::string::npos);
  CHECK(count(dom, "<g class=\"cross\">") == 1);
  CHECK(dom.find("data-state=\"TIME_WAIT\" data-side=\"client\"") != std::string::npos);
  CHECK(dom.find("data-state=\"TIME_WAIT\" data-side=\"server\"") == std::string::npos);
  CHECK(count(dom, "class=\"retx-link\"") == 1);
  CHECK(count(dom, "<tr class=\"check\" data-outcome=\"PASS\"") > 0);
  CHECK(count(dom, "data-outcome=\"FAIL\"") == 0);
  fs::remove_all(dir);
}

// The band on `side` with `state` and `form`: its whole <rect .../> element, or "".
std::string band_rect(const std::string& dom, const std::string& state, const std::string& side, const std::string& form) {
  const std::string key = "data-state=\"" + state + "\" data-side=\"" + side + "\"";
  for (auto at = dom.find(key); at != std::string::npos; at = dom.find(key, at + 1)) {
    const auto start = dom.rfind("<rect", at), end = dom.find(">", at);
    const std::string rect = dom.substr(start, end - start + 1);
    if (rect.find("data-form=\"" + form + "\"") != std::string::npos) return rect;
  }
  return "";
}

TEST_CASE("lastack run drop-final-ack: the server's request socket in SYN_RECV and the client's timewait socket in "
          "FIN_WAIT_2 are bands on the kernel's word, in the JSON's legal-states and on the page",
          "[html][policy][bands]") {
  REQUIRE(have("chromium"));
  const fs::path dir = scratch("html-bands");
  const fs::path page = dir / "dfa.html", json = dir / "dfa.jsonl";
  const auto r = run_lastack({"run", "drop-final-ack", "--html", page.string(), "--json", json.string()});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  // The text ladder: the same words, under a header that names the shipped policy as the tree does.
  CHECK(r.out.find("\n   (policies/drop-final-ack.toml)\n") != std::string::npos);
  CHECK(r.out.find("request socket in SYN_RECV (from the SYN's arrival, wire)") != std::string::npos);
  CHECK(r.out.find("timewait socket in FIN_WAIT_2 (timer 60.0 s)") != std::string::npos);
  CHECK(r.out.find("timewait socket in TIME_WAIT") != std::string::npos);
  // legal-states, as --json records it: each state with its source, from the kernel's evidence.
  std::string legal;
  for (const std::string& line : lines_of(slurp(json))) {
    const auto j = nlohmann::json::parse(line);
    if (j["type"] == "check" && j["name"] == "legal-states") legal = j["saw"];
  }
  INFO(legal);
  CHECK(legal.find("request socket in SYN_RECV (traced; from the SYN's arrival on the wire) → SYN_RECV → "
                   "ESTABLISHED") != std::string::npos);
  CHECK(legal.find("FIN_WAIT_1 → FIN_WAIT_2 (traced) → timewait socket in FIN_WAIT_2 (handed over at its traced "
                   "close) → timewait socket in TIME_WAIT (sampled") != std::string::npos);
  CHECK(legal.find("(inferred") == std::string::npos);
  // The page, as Chromium loads it.
  const auto browser = dump_dom(page);
  INFO(browser.err);
  REQUIRE(browser.exit_code == 0);
  const std::string& dom = browser.out;
  CHECK(dom.find("data-script-error=\"") == std::string::npos);
  const std::string request = band_rect(dom, "SYN_RECV", "server", "request");
  CHECK(request.find("data-source=\"traced\"") != std::string::npos);
  CHECK(request.find("data-label=\"request socket in SYN_RECV\"") != std::string::npos);
  const std::string fin_wait_2 = band_rect(dom, "FIN_WAIT_2", "client", "timewait");
  CHECK(fin_wait_2.find("data-source=\"handover\"") != std::string::npos);
  CHECK(fin_wait_2.find("data-label=\"timewait socket in FIN_WAIT_2\"") != std::string::npos);
  CHECK(band_rect(dom, "TIME_WAIT", "client", "timewait").find("data-source=\"sampled\"") != std::string::npos);
  CHECK(band_rect(dom, "SYN_RECV", "client", "request").empty());
  CHECK(dom.find(">timewait socket in FIN_WAIT_2</text>") != std::string::npos);
  CHECK(dom.find(">timer 60.0 s · from the FIN, wire</text>") != std::string::npos);  // its TIME_WAIT
  // The header names the shipped policy as the tree does, not where this machine keeps it.
  CHECK(dom.find("<small>policies/drop-final-ack.toml · ") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("lastack run --html DIR/ writes a page per run and an index comparing them", "[html][policy]") {
  REQUIRE(have("chromium"));
  const fs::path dir = scratch("html-dir");
  const auto r = run_lastack(
      {"run", "-q", "drop-final-ack", "drop-final-ack-no-timewait", "--html", dir.string() + "/reports/"});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  const fs::path reports = dir / "reports";
  CHECK(fs::exists(reports / "drop-final-ack.html"));
  CHECK(fs::exists(reports / "drop-final-ack-no-timewait.html"));
  const auto browser = dump_dom(reports / "index.html");
  REQUIRE(browser.exit_code == 0);
  const std::string& dom = browser.out;
  CHECK(dom.find("data-script-error=\"") == std::string::npos);
  CHECK(count(dom, "<div class=\"card\">") == 2);
  CHECK(dom.find("href=\"drop-final-ack.html\"") != std::string::npos);
  CHECK(dom.find("href=\"drop-final-ack-no-timewait.html\"") != std::string::npos);
  CHECK(count(dom, "class=\"ladder compact\"") == 2);
  CHECK(count(dom, "<g class=\"cross\">") == 2);
  // The difference at a glance: the run whose TIME_WAIT was destroyed answers the retransmitted
  // FIN with a RST, the other with an ACK (cards in the order the runs were given).
  const auto second = dom.find("<div class=\"card\">", dom.find("<div class=\"card\">") + 1);
  REQUIRE(second != std::string::npos);
  CHECK(count(dom.substr(0, second), ">R</text>") == 0);
  CHECK(count(dom.substr(second), ">R</text>") == 1);
  CHECK(count(dom.substr(0, second), "data-state=\"TIME_WAIT\"") == 1);
  fs::remove_all(dir);
}

TEST_CASE("lastack exec --html: a page for the user's own programs, with the dropped final ACK's cross",
          "[html][exec]") {
  REQUIRE(have("chromium"));
  REQUIRE(have("socat"));
  const fs::path dir = scratch("html-exec");
  const fs::path page = dir / "exec.html";
  const auto r = run_lastack({"exec", "-q", "--policy", "drop-final-ack", "--port", "8000", "--html", page.string(),
                              "--server",
                              "socat TCP-LISTEN:8000,bind=$LASTACK_SERVER_ADDR,reuseaddr SYSTEM:'echo hello'",
                              "--client", "socat -u TCP:$LASTACK_SERVER_ADDR:8000 STDOUT"});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  const auto browser = dump_dom(page);
  INFO(browser.err);
  REQUIRE(browser.exit_code == 0);
  const std::string& dom = browser.out;
  CHECK(dom.find("data-script-error=\"") == std::string::npos);
  CHECK(count(dom, "<g class=\"seg ") >= 7);  // handshake, data, its ACK, the close
  CHECK(count(dom, "<g class=\"cross\">") == 1);
  CHECK(dom.find("data-state=\"TIME_WAIT\" data-side=\"server\"") != std::string::npos);  // socat closes first
  CHECK(count(dom, "data-outcome=\"FAIL\"") == 0);
  fs::remove_all(dir);
}

TEST_CASE("lastack run --html to an unwritable path is bad input, in one line", "[html]") {
  const auto r = run_lastack({"run", "-q", "baseline", "--html", "/proc/lastack-no-such-dir/x.html"});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "lastack: /proc/lastack-no-such-dir/x.html: cannot write the HTML report\n");
}

namespace {
// What tshark makes of a drop-final-ack capture: one frame per wire segment, when its sender sent
// it, our comments on each, and its own TCP analysis.
void check_with_tshark(const std::vector<std::string>& extra, const std::string& name) {
  REQUIRE(have("tshark"));  // scripts/install-deps installs it
  const fs::path dir = scratch(name);
  const fs::path pcap = dir / "dfa.pcapng", json = dir / "dfa.jsonl";
  std::vector<std::string> args{"run", "-q", "drop-final-ack", "--pcap", pcap.string(), "--json", json.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_lastack(args);
  INFO(r);
  REQUIRE(r.exit_code == 0);
  const JsonTrace trace = read_jsonl(json);
  std::size_t frames = 0;
  for ([[maybe_unused]] const auto& w : trace.wire) ++frames;

  CHECK(tshark(pcap, {}).size() == frames);
  const auto comments = tshark(pcap, {"-T", "fields", "-e", "frame.comment"});
  REQUIRE(comments.size() == frames);
  for (const auto& c : comments) CHECK(c.find(" | ") != std::string::npos);  // "roles | verdict"
  std::size_t dropped = 0;
  for (const auto& c : comments)
    dropped += c == "ack,final-ack | dropped by fault 1: final-ack | never reached its receiver" ? 1 : 0;
  CHECK(dropped == 1);

  // Wireshark's own analysis sees the retransmitted FIN, and only it, as a retransmission.
  const auto retx = tshark(pcap, {"-Y", "tcp.analysis.retransmission", "-T", "fields", "-e", "tcp.flags.fin",
                                  "-e", "frame.comment"});
  REQUIRE(retx.size() == 1);
  CHECK(retx[0].starts_with("1\tfin,second-fin,retransmission | passed"));

  // Gaps in its sequence analysis only where segments were not queued (--capture selective lets
  // bulk data bypass the interceptor, so the capture lacks it).
  const auto lost = tshark(pcap, {"-Y", "tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment"});
  if (trace.run["every_segment"] == true) CHECK(lost.empty());
  else CHECK(!lost.empty());
  fs::remove_all(dir);
}
}  // namespace

TEST_CASE("lastack run --capture all --pcap: tshark counts every segment and marks the FIN retransmission",
          "[pcap][tshark][policy]") {
  check_with_tshark({"--capture", "all"}, "tshark-all");
}

TEST_CASE("lastack run --pcap (selective): tshark reads our comments and marks the FIN retransmission",
          "[pcap][tshark][policy]") {
  check_with_tshark({}, "tshark-selective");
}
