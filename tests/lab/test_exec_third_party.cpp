// `lastack exec` with unmodified third-party programs (scripts/install-deps installs them):
// python3's http.server (HTTP/1.1: it holds the connection until curl closes first) and socat
// (a server that closes first), with curl and socat as clients. The shipped close policies name
// sides by the order of closing; the exec app checks judge the commands' exit status and output.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lastack_process.hpp"

namespace lastack {
namespace {

using test::run_lastack;

// The README's example, verbatim: the lab's shell expands the variables. HTTP/1.1, so the close
// order is the programs' protocol, not a race: with HTTP/1.0 the server closes right after its
// response while curl closes as soon as it has the body, and a CI run once saw both FINs cross
// (a simultaneous close, which drop-final-ack rightly fails).
const std::string kHttpServer = "python3 -m http.server 8000 --bind $LASTACK_SERVER_ADDR -p HTTP/1.1";
const std::string kCurl = "curl -s http://$LASTACK_SERVER_ADDR:8000/";
// socat answers one connection with a line, then closes first; the client prints what it read.
const std::string kSocatServer = "socat TCP-LISTEN:8000,bind=$LASTACK_SERVER_ADDR,reuseaddr SYSTEM:'echo hello'";
const std::string kSocatClient = "socat -u TCP:$LASTACK_SERVER_ADDR:8000 STDOUT";

using test::contains;

// The verdict table's status word for the row whose name starts with `name` ("" when absent).
std::string row_status(const std::string& out, const std::string& name) {
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    const auto at = line.find("policy:");
    if (at == std::string::npos) continue;
    const auto name_at = line.find_first_not_of(' ', line.find(' ', at));
    if (name_at != std::string::npos && line.compare(name_at, name.size(), name) == 0)
      return line.substr(0, line.find("  "));
  }
  return "";
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("lastack-third-party-" + name)).string();
}

// Wire events in a JSON Lines trace that carry `role` and met `fate`.
std::size_t wire_with(const std::string& jsonl_path, const std::string& role, const std::string& fate) {
  std::ifstream in(jsonl_path);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j["type"] != "wire" || j["fate"] != fate) continue;
    for (const auto& r : j["roles"])
      if (r == role) ++n;
  }
  return n;
}

// drop-syn's fault and check, judged with the exec app checks instead of the agents' steps.
std::string drop_syn_with_app_checks(const std::string& name, const std::string& app_checks) {
  const std::string path = temp_path(name + ".toml");
  std::ofstream(path) << "name = \"" << name << "\"\n"
                      << "summary = \"drop-syn, with checks on the user's commands\"\n"
                      << "[scenario]\nclient = [\"connect\", \"close\"]\nserver = [\"accept\", \"close\"]\n"
                      << "[[fault]]\nsegment = \"syn\"\nfrom = \"client\"\nnth = 1\naction = \"drop\"\n"
                      << "[[expect]]\ncheck = \"retransmitted\"\nsegment = \"syn\"\nfrom = \"client\"\n"
                      << "count = 1\nafter = \"1s\"\n"
                      << app_checks;
  return path;
}

TEST_CASE("python3 http.server and curl under drop-final-ack: curl closes first, and its final ACK is dropped") {
  const std::string json = temp_path("http-drop-final-ack.jsonl");
  const auto out = run_lastack({"exec", "--policy", "drop-final-ack", "--port", "8000", "--json", json, "--server",
                                kHttpServer, "--client", kCurl});
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "PASS exec under drop-final-ack"));
  // The fault fired on curl's ACK, and the server's FIN came again and was answered.
  CHECK(contains(out.out, "dropped by fault 1: final-ack"));
  CHECK(contains(out.out, "[second-fin] (retransmission"));
  CHECK(row_status(out.out, "retransmitted second-fin from second-closer (server)") == "PASS");
  CHECK(row_status(out.out, "state first-closer (client) ends in TIME_WAIT") == "PASS");
  CHECK(row_status(out.out, "timewait entered by first-closer (client)") == "PASS");
  CHECK(wire_with(json, "final-ack", "dropped") == 1);
  CHECK(wire_with(json, "final-ack", "passed") >= 1);  // the answer to the retransmitted FIN
  std::filesystem::remove(json);
}

TEST_CASE("python3 http.server and curl under drop-syn: the SYN comes again, the agents' app check does not apply") {
  const auto out = run_lastack({"exec", "--policy", "drop-syn", "--port", "8000", "--server", kHttpServer,
                                "--client", kCurl});
  INFO(out);
  // The shipped policy also asks what lastack's server agent saw: that describes the agents only.
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "PASS exec under drop-syn"));
  CHECK(contains(out.out, "dropped by fault 1: syn"));
  CHECK(row_status(out.out, "retransmitted syn from client") == "PASS");
  CHECK(row_status(out.out, "app server sees eof, received 1000 bytes") == "N/A");
  CHECK(contains(out.out, "sees, received describe lastack's own agents"));
}

TEST_CASE("python3 http.server and curl under drop-syn pass the exec app checks: exit status and output") {
  const std::string policy = drop_syn_with_app_checks(
      "http-drop-syn", "[[expect]]\ncheck = \"app\"\nside = \"client\"\nexit = 0\noutput = \"Directory listing for /\"\n"
                       "[[expect]]\ncheck = \"app\"\nside = \"server\"\noutput = \"\\\"GET / HTTP/1\\\\.1\\\" 200\"\n");
  const auto out = run_lastack({"exec", "--policy", policy, "--port", "8000", "--quiet", "--server", kHttpServer,
                                "--client", kCurl});
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "PASS exec under http-drop-syn"));
  std::filesystem::remove(policy);
}

TEST_CASE("socat under drop-final-ack: the socat server closes first, its final ACK is dropped") {
  const std::string json = temp_path("socat-drop-final-ack.jsonl");
  const auto out = run_lastack({"exec", "--policy", "drop-final-ack", "--port", "8000", "--json", json, "--server",
                                kSocatServer, "--client", kSocatClient});
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "client| hello\n"));
  CHECK(contains(out.out, "dropped by fault 1: final-ack"));
  CHECK(row_status(out.out, "retransmitted second-fin from second-closer (client)") == "PASS");
  CHECK(wire_with(json, "final-ack", "dropped") == 1);
  std::filesystem::remove(json);
}

TEST_CASE("socat under drop-syn: the SYN comes again, and the client prints the server's line") {
  const std::string policy = drop_syn_with_app_checks(
      "socat-drop-syn", "[[expect]]\ncheck = \"app\"\nside = \"client\"\nexit = 0\noutput = \"^hello$\"\n");
  const auto out = run_lastack({"exec", "--policy", policy, "--port", "8000", "--quiet", "--server", kSocatServer,
                                "--client", kSocatClient});
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "PASS exec under socat-drop-syn"));
  std::filesystem::remove(policy);
  // The shipped drop-syn: the fault fires and its wire check passes; its agent check does not apply.
  const auto shipped = run_lastack({"exec", "--policy", "drop-syn", "--port", "8000", "--server", kSocatServer,
                                    "--client", kSocatClient});
  INFO(shipped);
  CHECK(shipped.exit_code == 0);
  CHECK(contains(shipped.out, "dropped by fault 1: syn"));
  CHECK(row_status(shipped.out, "retransmitted syn from client") == "PASS");
}

}  // namespace
}  // namespace lastack
