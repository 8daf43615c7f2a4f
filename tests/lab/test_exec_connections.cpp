// `lastack exec` with many connections: a curl client connecting three times (one after another,
// or at once), to one port or two, under a policy whose fault hits the second connection only.
// python3's http.server speaks HTTP/1.1, so curl closes each connection first (no race between
// the two closes); the policy's fault and checks name no side.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "lastack_process.hpp"

namespace lastack {
namespace {

using test::run_lastack;

const std::string kPolicy = std::string(LASTACK_FIXTURES) + "/policies/second-connection-final-ack.toml";
const std::string kHttpServer = "python3 -m http.server 8000 --bind $LASTACK_SERVER_ADDR -p HTTP/1.1";
const std::string kUrl = "http://$LASTACK_SERVER_ADDR:8000/";

using test::contains;

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

// The ladder's lines for connection `n`: from its header to the next one.
std::string connection_group(const std::string& out, int n) {
  const auto begin = out.find("── connection " + std::to_string(n) + ": ");
  if (begin == std::string::npos) return "";
  const auto end = out.find("\n── ", begin);
  return out.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// One verdict line per connection for each check judged on every connection, the fault on
// connection 2 only, and a pass.
void require_per_connection_verdicts(const test::ProcessOutput& out) {
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "PASS exec under second-connection-final-ack"));
  CHECK(contains(out.out, "3 connections: 1 (client port"));
  for (int c = 1; c <= 3; ++c) {
    const std::string on = " on connection " + std::to_string(c);
    CHECK(contains(out.out, "PASS  policy:52  no RST from either side" + on));
    CHECK(contains(out.out, "PASS  policy:42  segments syn" + on));
    CHECK(contains(out.out, "PASS  policy:47  state server reaches ESTABLISHED" + on));
  }
  CHECK(count_of(out.out, "dropped by fault 1: final-ack") == 1);
  CHECK(contains(connection_group(out.out, 2), "dropped by fault 1: final-ack"));
  CHECK(contains(connection_group(out.out, 2), "[second-fin] (retransmission"));
  CHECK(contains(out.out, "PASS  policy:23  retransmitted second-fin on connection 2"));
}

TEST_CASE("exec: curl three times in a row gets one verdict per connection, the fault on the second") {
  const auto out = run_lastack({"exec", "--policy", kPolicy, "--port", "8000", "--server", kHttpServer, "--client",
                                "for i in 1 2 3; do curl -s " + kUrl + " >/dev/null || exit 1; done"});
  require_per_connection_verdicts(out);
  CHECK(contains(out.out, "── connection 1: 198.18.1.2:"));
  CHECK(contains(out.out, " → 198.18.2.2:8000\n"));
}

TEST_CASE("exec: three curls at once, the port found from the server's listener") {
  const std::string curl = "curl -s " + kUrl + " >/dev/null & ";
  const auto out = run_lastack({"exec", "--policy", kPolicy, "--server", kHttpServer, "--client",
                                "echo \"port $LASTACK_SERVER_PORT\"; " + curl + "a=$!; " + curl + "b=$!; " + curl +
                                    "c=$!; wait $a && wait $b && wait $c"});
  require_per_connection_verdicts(out);
  CHECK(contains(out.out, "client| port 8000\n"));
}

TEST_CASE("exec: --port twice waits for both servers, and the ladder names each connection's port") {
  // The second server is http.server's handler on a plain TCPServer: http.server's own startup
  // looks its address up in DNS, which has no answer in the lab, and two at once can outwait 5 s.
  const std::string second =
      "python3 -c 'import http.server as h, socketserver as s, sys; "
      "s.TCPServer((sys.argv[1], 8001), h.SimpleHTTPRequestHandler).serve_forever()' $LASTACK_SERVER_ADDR";
  const auto out = run_lastack(
      {"exec", "--policy", kPolicy, "--port", "8000", "--port", "8001", "--server",
       kHttpServer + " & " + second + " & wait", "--client",
       "echo \"ports $LASTACK_SERVER_PORTS\"; for p in 8000 8001 8000; do curl -s "
       "http://$LASTACK_SERVER_ADDR:$p/ >/dev/null || exit 1; done"});
  require_per_connection_verdicts(out);
  CHECK(contains(out.out, "client| ports 8000 8001\n"));
  CHECK(contains(connection_group(out.out, 1), " → 198.18.2.2:8000\n"));
  CHECK(contains(connection_group(out.out, 2), " → 198.18.2.2:8001\n"));
  CHECK(contains(connection_group(out.out, 3), " → 198.18.2.2:8000\n"));
}

TEST_CASE("exec: a --port the server never listens on is named when the run gives up (exit 4)") {
  const auto out = run_lastack({"exec", "--policy", kPolicy, "--port", "8000", "--port", "8002", "--server",
                                kHttpServer, "--client", "true"});
  CHECK(out.exit_code == 4);
  CHECK(out.err == "lastack: server did not listen on 8002 within 5 s\n");
}

}  // namespace
}  // namespace lastack
