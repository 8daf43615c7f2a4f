// `--control`: a test switches faults while its run goes. Under `lastack exec --control` a client
// adds a drop of the server's data through `lastack ctl`, the server's kernel retransmits into it
// (tcp_retransmit_skb in the trace), the client removes it and every byte arrives; the trace
// holds both switches with the drops between them only. Under `lastack wrap --control` a pytest
// suite does the same with its own server on 127.0.0.1. `lastack ctl` without a run exits 3, with
// bad words 2.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "lastack_process.hpp"

namespace lastack {
namespace {

using test::run_lastack;

using test::contains;

std::vector<nlohmann::json> trace_lines(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

const nlohmann::json* lab_event(const std::vector<nlohmann::json>& lines, const std::string& kind) {
  for (const auto& j : lines)
    if (j["type"] == "lab" && j["kind"] == kind) return &j;
  return nullptr;
}

// A `lastack agent` server taking `steps`, and a python client from tests/lab/control/ with
// `lastack ctl` at hand ($LASTACK).
std::string agent_server(const std::string& steps) {
  return "'" + test::lastack_bin() + "' agent --side server --address $LASTACK_SERVER_ADDR --port $LASTACK_SERVER_PORT " +
         steps;
}
std::string python_client(const std::string& script) {
  return "PYTHONDONTWRITEBYTECODE=1 LASTACK='" + test::lastack_bin() + "' /usr/bin/python3 " + LASTACK_LAB_DIR +
         "/control/" + script;
}

}  // namespace

TEST_CASE("exec --control: a client switches a drop of the server's data on and off, the server's kernel retransmits "
          "between") {
  test::TempDir dir("control");
  const auto trace = dir.path / "trace.jsonl";
  const std::string server = agent_server("--step accept --step 'recv 2' --step 'send 20000' --step close");
  const std::string client = python_client("switch_drop.py");
  const auto out = run_lastack({"exec", "--control", "--policy", "controlled", "--json", trace.string(), "--server",
                                server, "--client", client});
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "client| received 20000"));
  CHECK(contains(out.out, "control: fault 1 added: drop every data from server"));  // on the ladder
  CHECK(contains(out.out, "control: mark: the drop was on for 1.2 s"));
  CHECK(contains(out.out, "PASS exec under controlled"));

  const auto lines = trace_lines(trace);
  const nlohmann::json* added = lab_event(lines, "fault-added");
  const nlohmann::json* removed = lab_event(lines, "fault-removed");
  REQUIRE(added);
  REQUIRE(removed);
  CHECK((*added)["fault"] == 0);
  CHECK((*added)["request"]["fault"]["action"] == "drop");
  const std::int64_t on = (*added)["t_ns"], off = (*removed)["t_ns"];
  CHECK(on < off);
  std::size_t dropped = 0, retransmitted = 0;
  for (const auto& j : lines) {
    if (j["type"] == "wire" && j["fault"] == 0) {
      ++dropped;
      CHECK(j["fate"] == "dropped");
      CHECK(j["from"] == "server");
      CHECK(j["t_ns"].get<std::int64_t>() > on);  // the drops between the two switches only
      CHECK(j["t_ns"].get<std::int64_t>() < off);
    }
    if (j["type"] == "retransmit" && j["side"] == "server" && j["t_ns"].get<std::int64_t>() > on &&
        j["t_ns"].get<std::int64_t>() < off)
      ++retransmitted;  // the kernel's own word: tcp_retransmit_skb
  }
  CHECK(dropped >= 2);
  CHECK(retransmitted >= 1);
}

TEST_CASE("exec --control: link set puts 100 ms each way on the wire from then on, and a round trip shows it") {
  test::TempDir dir("control-link");
  const auto trace = dir.path / "trace.jsonl";
  const std::string server = agent_server("--step accept --step 'recv 1' --step 'send 1' --step 'recv 1' "
                                           "--step 'send 1' --step recv-until-eof --step close");
  const std::string client = python_client("link_set.py");
  const auto out = run_lastack({"exec", "--control", "--policy", "controlled", "--json", trace.string(), "--server",
                                server, "--client", client});
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "client| round trips"));
  CHECK(contains(out.out, "PASS exec under controlled"));
  const auto lines = trace_lines(trace);
  const nlohmann::json* set = lab_event(lines, "link-set");
  REQUIRE(set);
  const std::int64_t at = (*set)["t_ns"];
  // Every segment queued after the change carries the link's 100 ms; none before it does.
  std::size_t delayed = 0;
  for (const auto& j : lines) {
    if (j["type"] != "wire" || !j.value("queued", false)) continue;
    const bool after = j["t_ns"].get<std::int64_t>() > at;
    const bool linked = j.contains("link") && !j["link"].is_null() && j["link"]["delay_ns"] == 100'000'000;
    CHECK(after == linked);
    delayed += linked;
  }
  CHECK(delayed >= 4);  // the second round trip's byte and answer, their ACKs or the close
}

TEST_CASE("wrap --control: a pytest suite switches a drop with lastack ctl and checks its exit codes") {
  const auto out = run_lastack({"wrap", "--control", "--policy", "controlled", "--port", "8767", "--", "env",
                                "LASTACK=" + test::lastack_bin(), "/usr/bin/python3", "-m", "pytest", "-q", "-p",
                                "no:cacheprovider", std::string(LASTACK_LAB_DIR) + "/wrap_control"});
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "| 2 passed"));
  CHECK(contains(out.out, "control: fault 1 added: drop every data from server"));
  CHECK(contains(out.out, "control: fault 1 removed"));
  CHECK(contains(out.out, "PASS wrap under controlled"));
}

TEST_CASE("ctl outside a run: no socket exits 3, words that are no request exit 2, each in one line") {
  const auto none = run_lastack({"ctl", "--control", "/nonexistent/control", "status"});
  CHECK(none.exit_code == 3);
  CHECK(contains(none.err, "lastack ctl: connect /nonexistent/control:"));
  const auto bad = run_lastack({"ctl", "--control", "/nonexistent/control", "fault", "remove", "two"});
  CHECK(bad.exit_code == 2);
  CHECK(contains(bad.err, "ctl fault remove: give one fault number"));
}

}  // namespace lastack
