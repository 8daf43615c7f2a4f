// `lastack exec`: the user's own server and client commands under a policy. `lastack agent` plays
// the user's programs (nothing else is sure to be installed), addressed through the environment.
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "lastack_process.hpp"

namespace lastack {
namespace {

using test::lastack_bin;
using test::run_lastack;

// Single quotes: the lab's shell expands the variables, not the test's.
std::string server_agent(const std::string& steps) {
  return "'" + lastack_bin() +
         "' agent --side server --address $LASTACK_SERVER_ADDR --port $LASTACK_SERVER_PORT " + steps;
}

std::string client_agent(const std::string& steps) {
  return "'" + lastack_bin() +
         "' agent --side client --address $LASTACK_SERVER_ADDR --port $LASTACK_SERVER_PORT " + steps;
}

const std::string kServerSteps = "--step accept --step recv-until-eof --step close";
const std::string kClientSteps = "--step connect --step 'send 1000' --step close";

using test::contains;

// Processes whose command line contains `marker`, other than the caller's own.
std::size_t processes_with(const std::string& marker) {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (contains(cmdline, marker)) ++n;
  }
  return n;
}

TEST_CASE("exec under drop-final-ack passes, the user's server retransmitting its FIN") {
  const auto out = run_lastack({"exec", "--policy", "drop-final-ack", "--server", server_agent(kServerSteps),
                                "--client", client_agent(kClientSteps)});
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "[second-fin] (retransmission"));
  // The status column widens when a NOT CHECKED or N/A row is in the table.
  const auto row = out.out.find("policy:39  retransmitted second-fin from second-closer (server)");
  REQUIRE(row != std::string::npos);
  CHECK(out.out.substr(out.out.rfind('\n', row) + 1, 4) == "PASS");
  CHECK(contains(out.out, "client: command → exit 0"));
  CHECK(contains(out.out, "PASS exec under drop-final-ack"));
}

TEST_CASE("exec passes the lab's addresses to the commands and prefixes their output") {
  const auto out = run_lastack({"exec", "--policy", "drop-final-ack", "--port", "9090", "--quiet", "--server",
                                "echo \"$LASTACK_SIDE listens on $LASTACK_SERVER_ADDR:$LASTACK_SERVER_PORT\"; " +
                                    server_agent(kServerSteps),
                                "--client",
                                "echo \"$LASTACK_SIDE from $LASTACK_CLIENT_ADDR\"; " + client_agent(kClientSteps)});
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "server| server listens on 198.18.2.2:9090\n"));
  CHECK(contains(out.out, "client| client from 198.18.1.2\n"));
}

TEST_CASE("exec's commands run at the caller's priority, not the harness's raised one") {
  const int caller = ::getpriority(PRIO_PROCESS, 0);
  const auto out = run_lastack({"exec", "--policy", "drop-final-ack", "--quiet", "--server",
                                "echo \"server nice $(nice)\"; " + server_agent(kServerSteps), "--client",
                                "echo \"client nice $(nice)\"; " + client_agent(kClientSteps)});
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, fmt::format("server| server nice {}\n", caller)));
  CHECK(contains(out.out, fmt::format("client| client nice {}\n", caller)));
}

TEST_CASE("exec fails (exit 1) and says so when the client command exits non-zero") {
  const auto out = run_lastack({"exec", "--policy", "drop-final-ack", "--quiet", "--server",
                                server_agent(kServerSteps), "--client", client_agent(kClientSteps) + "; exit 3"});
  INFO(out);
  CHECK(out.exit_code == 1);
  CHECK(contains(out.out, "FAIL exec under drop-final-ack: the client command ended with exit 3"));
}

TEST_CASE("exec gives up (exit 4) in one line when the server never listens") {
  const auto out = run_lastack(
      {"exec", "--policy", "drop-final-ack", "--server", "sleep 30", "--client", client_agent(kClientSteps)});
  CHECK(out.exit_code == 4);
  CHECK(out.err == "lastack: server did not listen on any port within 5 s\n");
}

TEST_CASE("exec without --client is bad input (exit 2)") {
  const auto out = run_lastack({"exec", "--policy", "drop-final-ack", "--server", "true"});
  CHECK(out.exit_code == 2);
  CHECK(contains(out.err, "--client is required"));
}

TEST_CASE("exec leaves no process behind: the server's whole group is ended") {
  // The server starts a background process and then never ends on its own.
  const std::string marker = "313.0417";
  const auto out = run_lastack({"exec", "--policy", "drop-final-ack", "--quiet", "--server",
                                "sleep " + marker + " & " +
                                    server_agent("--step accept --step recv-until-eof --step close --step 'sleep 60s'"),
                                "--client", client_agent(kClientSteps)});
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(processes_with(marker) == 0);
  CHECK(processes_with("sleep 60s") == 0);
}

}  // namespace
}  // namespace lastack
