// The BPF kernel observer, as root: exact state sequences, retransmission causes, per-run
// isolation, and nothing left in the kernel when a run is killed.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "lastack/privilege.hpp"
#include "lastack_process.hpp"

using lastack::test::run_lastack;
using lastack::test::run_process;
using Json = nlohmann::json;

namespace {

bool as_root() { return lastack::sys::current_privilege_mode() == lastack::sys::PrivilegeMode::root; }

std::vector<Json> read_jsonl(const std::string& path) {
  std::vector<Json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(Json::parse(line));
  return out;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("lastack-bpf-" + std::to_string(::getpid()) + "-" + name)).string();
}

// The traced states of `side`'s connection socket, in order (listener changes left out).
std::vector<std::string> states_of(const std::vector<Json>& trace, const std::string& side) {
  std::vector<std::string> out;
  for (const Json& e : trace)
    if (e["type"] == "state" && e["side"] == side && e["remote_port"] != 0 && e["to"] != "LISTEN")
      out.push_back(e["to"]);
  return out;
}

std::vector<Json> of_type(const std::vector<Json>& trace, const std::string& type) {
  std::vector<Json> out;
  for (const Json& e : trace)
    if (e["type"] == type) out.push_back(e);
  return out;
}

std::vector<Json> run_traced(const std::string& policy, int expected_exit = 0) {
  const std::string path = temp_path(policy + ".jsonl");
  auto r = run_lastack({"run", "--quiet", "--json", path, policy});
  INFO(r);
  REQUIRE(r.exit_code == expected_exit);
  auto trace = read_jsonl(path);
  std::filesystem::remove(path);
  REQUIRE(!trace.empty());
  REQUIRE(trace.front()["kernel_source"] == "traced");
  return trace;
}

// IDs of every BPF program, link or map on the machine.
std::set<long> bpf_ids(const std::string& what) {
  auto r = run_process({"bpftool", "-j", what, "show"});
  std::set<long> ids;
  for (const Json& o : Json::parse(r.out.empty() ? "[]" : r.out)) ids.insert(o.value("id", -1L));
  return ids;
}

std::size_t count_our_programs() {
  auto r = run_process({"bpftool", "-j", "prog", "show"});
  std::size_t n = 0;
  for (const Json& o : Json::parse(r.out.empty() ? "[]" : r.out))
    n += o.value("name", std::string()) == "on_state";
  return n;
}

}  // namespace

TEST_CASE("baseline: every state of both sockets, exactly, from tracepoints", "[bpf]") {
  if (!as_root()) {
    SUCCEED("BPF needs root: runs inside a user namespace sample states");
    return;
  }
  const auto trace = run_traced("baseline");
  CHECK(states_of(trace, "client") ==
        std::vector<std::string>{"SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSED"});
  CHECK(states_of(trace, "server") ==
        std::vector<std::string>{"SYN_RECV", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"});
  // TIME_WAIT is a timewait socket no tracepoint reports: sock_diag still samples it.
  bool time_wait = false;
  for (const Json& e : of_type(trace, "socket")) time_wait |= e["side"] == "client" && e["state"] == "TIME_WAIT";
  CHECK(time_wait);
  for (const Json& e : of_type(trace, "state")) {
    if (e["remote_port"] == 0) continue;  // the listener
    CHECK(e["connection"] == 0);           // ports given even before bind and after release
    CHECK(e["t_us"].get<long>() > 0);      // on the run's clock
  }
  CHECK(trace.front()["timewait_overflow"]["client"] == 0);
  CHECK(of_type(trace, "retransmit").empty());
}

TEST_CASE("drop-final-ack: the server resends its FIN from LAST_ACK, by its timer", "[bpf]") {
  if (!as_root()) {
    SUCCEED("BPF needs root");
    return;
  }
  const auto trace = run_traced("drop-final-ack");
  const auto resent = of_type(trace, "retransmit");
  REQUIRE(resent.size() == 1);
  CHECK(resent[0]["side"] == "server");
  CHECK(resent[0]["state"] == "LAST_ACK");
  // A lone FIN: the tail-loss probe timer (armed at min(2 srtt + 200 ms, RTO)) fires first;
  // the kernel's TCPLossProbes counter agrees (measured when this was written).
  CHECK((resent[0]["cause"] == "loss-probe" || resent[0]["cause"] == "rto"));
  CHECK(resent[0]["rto_us"].get<long>() >= 200'000);
  bool on_wire = false;
  for (const Json& w : of_type(trace, "wire"))
    on_wire |= w["from"] == "server" && w["flags"] == "F." && w["seq"] == resent[0]["seq"];
  CHECK(on_wire);
}

TEST_CASE("orphan-fin-retries: RTOs with growing backoff, no tail-loss probe (tcp_early_retrans 0)", "[bpf]") {
  if (!as_root()) {
    SUCCEED("BPF needs root");
    return;
  }
  const auto trace = run_traced("orphan-fin-retries");
  std::vector<std::string> causes;
  std::vector<int> backoffs;
  for (const Json& e : of_type(trace, "retransmit")) {
    REQUIRE(e["side"] == "client");
    CHECK(e["state"] == "FIN_WAIT_1");
    causes.push_back(e["cause"]);
    backoffs.push_back(e["backoff"]);
  }
  REQUIRE(causes.size() >= 3);
  for (std::size_t i = 0; i < causes.size(); ++i) {
    CHECK(causes[i] == "rto");
    CHECK(backoffs[i] == static_cast<int>(i));
  }
  bool accepted = false;
  for (const Json& e : of_type(trace, "reset")) accepted |= e["side"] == "server" && e["sent"] == false;
  CHECK(accepted);
}

TEST_CASE("two runs at once each see only their own sockets", "[bpf]") {
  if (!as_root()) {
    SUCCEED("BPF needs root");
    return;
  }
  const std::string dir = temp_path("parallel/");
  auto r = run_lastack({"run", "--quiet", "-j", "2", "--json", dir, "baseline", "drop-final-ack"});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  for (const std::string policy : {"baseline", "drop-final-ack"}) {
    const auto trace = read_jsonl(dir + policy + ".jsonl");
    REQUIRE(!trace.empty());
    CHECK(trace.front()["kernel_source"] == "traced");
    std::size_t listens = 0, connects = 0;
    for (const Json& e : of_type(trace, "state")) {
      listens += e["to"] == "LISTEN";
      connects += e["to"] == "SYN_SENT";
      if (e["remote_port"] != 0) CHECK(e["connection"] == 0);
    }
    CHECK(listens == 1);
    CHECK(connects == 1);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a run killed with SIGKILL leaves no BPF program, link or map", "[bpf][cleanup]") {
  if (!as_root()) {
    SUCCEED("BPF needs root");
    return;
  }
  const auto progs = bpf_ids("prog"), links = bpf_ids("link"), maps = bpf_ids("map");
  const std::size_t ours_before = count_our_programs();
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string bin = lastack::test::lastack_bin();
    ::execl(bin.c_str(), bin.c_str(), "--policy-dir", LASTACK_POLICY_DIR, "run", "--quiet", "drop-syn",
            static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  // Wait until the run's programs are attached, then kill it mid-run.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (count_our_programs() == ours_before && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(count_our_programs() > ours_before);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFSIGNALED(status));

  // The kernel frees fd-held objects when their last fd closes; it does so asynchronously.
  const auto settled = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto leftover = [](const std::set<long>& before, const std::set<long>& now) {
    for (long id : now)
      if (!before.count(id)) return true;
    return false;
  };
  while ((leftover(progs, bpf_ids("prog")) || leftover(maps, bpf_ids("map"))) &&
         std::chrono::steady_clock::now() < settled)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(leftover(progs, bpf_ids("prog")));
  CHECK_FALSE(leftover(links, bpf_ids("link")));
  CHECK_FALSE(leftover(maps, bpf_ids("map")));
  CHECK(count_our_programs() == ours_before);
}
