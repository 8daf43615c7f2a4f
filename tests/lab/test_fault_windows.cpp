// Faults in time, and resets, on the real kernels: a 3 s dark window on every segment both ways
// (the kernel's retransmissions inside it, the recovery after it, the window on the ladder and in
// the trace), and a connection cut by RSTs in place of the server's 4th data segment (both
// kernels accept theirs, on their own word).
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lastack_process.hpp"
#include "trace_lines.hpp"

using lastack::test::run_lastack;
using lastack::test::TempDir;
using Json = nlohmann::json;

namespace {

std::int64_t t_ns(const Json& j) { return j.at("t_ns").get<std::int64_t>(); }

}  // namespace

TEST_CASE("a 3 s dark window: the kernel retransmits inside it and recovers after it", "[policy][window]") {
  TempDir dir("window");
  const auto trace = dir.path / "dark.jsonl";
  const auto r = run_lastack({"run", "--json", trace.string(), "dark-window"});
  INFO(r);
  REQUIRE(r.exit_code == 0);  // every verdict holds, built-in and the policy's

  std::optional<std::int64_t> opened, closed;
  for (const Json& j : lastack::test::trace_lines(trace)) {
    if (j["type"] != "lab" || !j.contains("fault")) continue;
    CHECK(j["fault"] == 0);
    if (j["kind"] == "window-opened") opened = t_ns(j);
    if (j["kind"] == "window-closed") closed = t_ns(j);
  }
  REQUIRE(opened);
  REQUIRE(closed);
  CHECK(*opened == 1'000'000'000);  // from 1s on the run's clock...
  CHECK(*closed == 4'000'000'000);  // ...for 3s
  std::size_t retransmits_inside = 0, dropped_inside = 0, dropped_outside = 0, data_after = 0;
  for (const Json& j : lastack::test::trace_lines(trace)) {
    if (j["type"] == "retransmit" && j["side"] == "client" && t_ns(j) >= *opened && t_ns(j) < *closed)
      ++retransmits_inside;
    if (j["type"] != "wire" || j["injected"] == true) continue;
    const bool inside = t_ns(j) >= *opened && t_ns(j) < *closed;
    if (j["fate"] == "dropped") ++(inside ? dropped_inside : dropped_outside);
    // Recovery: the client's data crossing, delivered, once the window closed.
    if (t_ns(j) >= *closed && j["from"] == "client" && j["len"] > 0 && j["fate"] == "passed") ++data_after;
  }
  // The first lost segment is resent after 200 ms, 600 ms and 1.4 s (RTO 200 ms, doubling): all
  // inside a 3 s window (two at least, should a loaded host start the transfer late).
  CHECK(retransmits_inside >= 2);
  CHECK(dropped_inside >= 3);
  CHECK(dropped_outside == 0);  // the fault acts inside its window only
  CHECK(data_after >= 1);

  // The ladder: a line where the window opens and one where it closes, the retransmissions between.
  const auto open_line = r.out.find("fault 1's window opens (from 1s for 3s after the run's start)");
  const auto close_line = r.out.find("fault 1's window closes (open 3s)");
  REQUIRE(open_line != std::string::npos);
  REQUIRE(close_line != std::string::npos);
  REQUIRE(open_line < close_line);
  CHECK(r.out.substr(open_line, close_line - open_line).find("retransmi") != std::string::npos);
}

TEST_CASE("a reset after the server's 3rd data segment: both kernels accept a RST and close", "[policy][reset]") {
  TempDir dir("reset");
  const auto trace = dir.path / "reset.jsonl";
  const auto r = run_lastack({"run", "--json", trace.string(), "reset-mid-transfer"});
  INFO(r);
  REQUIRE(r.exit_code == 0);

  std::vector<Json> injected, received, closes;
  std::size_t replaced = 0;
  for (const Json& j : lastack::test::trace_lines(trace)) {
    if (j["type"] == "wire" && j["injected"] == true) injected.push_back(j);
    if (j["type"] == "wire" && j["fate"] == "dropped") ++replaced;
    if (j["type"] == "reset" && j["sent"] == false) received.push_back(j);
    if (j["type"] == "state" && j["to"] == "CLOSED") closes.push_back(j);
  }
  CHECK(replaced == 1);
  // Two RSTs, made by lastack (the trace says so), one toward each end.
  REQUIRE(injected.size() == 2);
  CHECK(injected[0]["flags"].get<std::string>().find('R') != std::string::npos);
  CHECK(injected[0]["from"] == "server");  // to the client, seemingly from the server
  CHECK(injected[1]["from"] == "client");
  // The kernel's word: each side accepted one, in ESTABLISHED, and its socket closed with ECONNRESET.
  REQUIRE(received.size() == 2);
  for (const Json& k : received) CHECK(k["state"] == "ESTABLISHED");
  CHECK(received[0]["side"] != received[1]["side"]);
  std::size_t reset_closes = 0;
  for (const Json& c : closes)
    if (c["from"] == "ESTABLISHED" && c.value("sk_err", 0) == 104) ++reset_closes;  // ECONNRESET
  CHECK(reset_closes == 2);
  // The apps: the verdict table names ECONNRESET for both.
  CHECK(r.out.find("RST to the client by fault 1") != std::string::npos);
  CHECK(r.out.find("RST to the server by fault 1") != std::string::npos);
}

TEST_CASE("reset-to = \"client\" resets the client alone", "[policy][reset]") {
  TempDir dir("reset-one");
  const auto policy = dir.path / "reset-client.toml";
  std::ofstream(policy) << "name = \"reset-client\"\n"
                           "[scenario]\n"
                           "client = [\"connect\", \"recv-until-eof\", \"close\"]\n"
                           "server = [\"accept\", \"send 5000\", \"recv-until-eof\", \"close\"]\n"
                           "[[fault]]\nsegment = \"data\"\nfrom = \"server\"\nnth = 4\naction = \"reset\"\n"
                           "reset-to = \"client\"\n"
                           "[[expect]]\ncheck = \"reset\"\nreceived-by = \"client\"\ncount = 1\n"
                           "[[expect]]\ncheck = \"app\"\nside = \"client\"\nsees = \"ECONNRESET\"\n";
  const auto r = run_lastack({"run", "-q", policy.string()});
  INFO(r);
  CHECK(r.exit_code == 0);
}

TEST_CASE("a window that can never open: one line with file and line, exit 2", "[policy][window][exit]") {
  TempDir dir("window-error");
  const auto policy = dir.path / "never.toml";
  std::ofstream(policy) << "name = \"never\"\n"
                           "[scenario]\n"
                           "client = [\"connect\", \"close\"]\n"
                           "server = [\"accept\", \"close\"]\n"
                           "[[fault]]\n"
                           "action = \"drop\"\n"
                           "window = { from = \"15s\", for = \"3s\" }\n";
  const auto r = run_lastack({"run", "-q", policy.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "lastack: " + policy.string() +
                     ":7: window.from = \"15s\" opens at or after the scenario's timeout (15s): it can never open\n");
  CHECK(r.out.empty());
}
