// The README's recipes for real servers under `lastack exec` (Debian's nginx, redis, haproxy and
// iperf3; scripts/install-deps installs them): each command here is the README's, verbatim but for
// the site directory. Bulk bodies through sendfile, a proxy with a loopback backend, several
// connections, a server that daemonizes.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "lastack_process.hpp"

namespace lastack {
namespace {

namespace fs = std::filesystem;
using test::run_lastack;

using test::contains;

// nginx's site: the recipe's nginx.conf, www/ with a body of `bytes`, and tmp/.
fs::path nginx_site(std::size_t bytes) {
  const fs::path site = fs::temp_directory_path() / ("lastack-nginx-" + std::to_string(::getpid()));
  fs::create_directories(site / "www");
  fs::create_directories(site / "tmp");
  fs::copy_file(fs::path(LASTACK_RECIPES_DIR) / "nginx.conf", site / "nginx.conf", fs::copy_options::overwrite_existing);
  std::ofstream body(site / "www" / "body", std::ios::binary);
  for (std::size_t i = 0; i < bytes; ++i) body.put(static_cast<char>('a' + i % 26));
  return site;
}

// Runs the README's nginx recipe for a body of `bytes` under drop-final-ack.
test::ProcessOutput nginx_under_drop_final_ack(std::size_t bytes) {
  const fs::path site = nginx_site(bytes);
  auto out = run_lastack({"exec", "--policy", "drop-final-ack", "--port", "8080", "--quiet", "--server",
                          "nginx -p " + site.string() + " -c nginx.conf", "--client",
                          "curl -s -o /dev/null -w '%{size_download}\\n' http://$LASTACK_SERVER_ADDR:8080/body"});
  fs::remove_all(site);
  return out;
}

}  // namespace

TEST_CASE("recipe: nginx serves 270 KB through sendfile under drop-final-ack, no harness error") {
  const auto out = nginx_under_drop_final_ack(270 * 1024);
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "client| 276480"));  // curl got the whole body
  CHECK(contains(out.out, "PASS exec under drop-final-ack"));
}

TEST_CASE("recipe: nginx serves 10 MB through sendfile under drop-final-ack, no harness error") {
  const auto out = nginx_under_drop_final_ack(10 * 1024 * 1024);
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "client| 10485760"));
  CHECK(contains(out.out, "PASS exec under drop-final-ack"));
}

TEST_CASE("recipe: haproxy with a loopback backend under drop-final-ack judges the wire's connection only") {
  const auto out = run_lastack(
      {"exec", "--policy", "drop-final-ack", "--port", "8080", "--server",
       "python3 -m http.server 8000 --bind 127.0.0.1 -p HTTP/1.1 >/dev/null 2>&1 & exec haproxy -db -f " +
           std::string(LASTACK_RECIPES_DIR) + "/haproxy.cfg",
       "--client", "curl -s -o /dev/null -w '%{http_code}\\n' http://$LASTACK_SERVER_ADDR:8080/"});
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "client| 200"));
  CHECK(contains(out.out, "off the wire, not judged"));  // haproxy's backend sockets, listed apart
  CHECK(contains(out.out, "PASS exec under drop-final-ack"));
}

namespace {

// The README's redis recipe under drop-syn, with `extra` server flags.
test::ProcessOutput redis_under_drop_syn(const std::string& extra) {
  return run_lastack({"exec", "--policy", "drop-syn", "--port", "6379", "--server",
                      "redis-server " + extra + "--port 6379 --bind $LASTACK_SERVER_ADDR --protected-mode no --save '' "
                                                "--appendonly no",
                      "--client", "redis-cli -h $LASTACK_SERVER_ADDR -p 6379 ping"});
}

}  // namespace

TEST_CASE("recipe: redis under drop-syn, the SYN lost once, redis-cli still gets its PONG") {
  const auto out = redis_under_drop_syn("");
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "client| PONG"));
  CHECK(contains(out.out, "PASS exec under drop-syn"));
}

TEST_CASE("recipe: redis --daemonize yes is waited for, named, and ended with the run") {
  // A pid file of its own (redis removes it when it shuts down cleanly), in the run's temp dir.
  const fs::path pid_file = fs::temp_directory_path() / ("lastack-redis-" + std::to_string(::getpid()) + ".pid");
  const auto out = redis_under_drop_syn("--daemonize yes --pidfile " + pid_file.string() + " --logfile '' ");
  fs::remove(pid_file);
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "redis-server (pid "));
  CHECK(contains(out.out, "it daemonized or left its session): ended with the run"));
}

TEST_CASE("recipe: curl three times under drop-final-ack: each connection loses its final ACK, and says so") {
  const auto out = run_lastack({"exec", "--policy", "drop-final-ack", "--port", "8000", "--quiet", "--server",
                                "python3 -m http.server 8000 --bind $LASTACK_SERVER_ADDR -p HTTP/1.1", "--client",
                                "for i in 1 2 3; do curl -s -o /dev/null http://$LASTACK_SERVER_ADDR:8000/ || exit 1; done"});
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "PASS exec under drop-final-ack: fault 1 hit connections 1, 2, 3"));
}

TEST_CASE("recipe: iperf3 -n 10M under drop-syn: control and data connections each lose their first SYN") {
  const auto out = run_lastack({"exec", "--policy", "drop-syn", "--port", "5201", "--quiet", "--server",
                                "iperf3 -s -1 -B $LASTACK_SERVER_ADDR -p 5201", "--client",
                                "iperf3 -c $LASTACK_SERVER_ADDR -p 5201 -n 10M"});
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK_FALSE(contains(out.out, "harness error"));
  CHECK(contains(out.out, "PASS exec under drop-syn: fault 1 hit connections 1, 2"));
}

TEST_CASE("recipe: nginx under the shipped handshake and close policies, keep-alive and Connection: close") {
  const fs::path site = nginx_site(270 * 1024);
  // curl closes first on a keep-alive connection. With Connection: close, nginx closes after its
  // response while curl closes once it has the body: the FINs race, and when they cross it is a
  // simultaneous close, which a close policy rightly fails; so that one runs under a handshake
  // policy. (baseline and drop-first-fin also claim their agents' close shape, a server closing
  // 200 ms after EOF: nginx closes at once, a three-segment close, and they rightly fail.)
  const std::vector<std::pair<std::string, std::string>> cases{
      {"", "drop-syn"}, {"", "drop-synack"}, {"", "drop-final-ack"}, {"-H 'Connection: close' ", "drop-syn"}};
  for (const auto& [header, policy] : cases) {
    const auto out = run_lastack({"exec", "--policy", policy, "--port", "8080", "--quiet", "--server",
                                  "nginx -p " + site.string() + " -c nginx.conf", "--client",
                                  "curl -s -o /dev/null " + header + "http://$LASTACK_SERVER_ADDR:8080/body"});
    INFO(policy << " " << header << "\n" << out.out << out.err);
    CHECK(out.exit_code == 0);
    CHECK(contains(out.out, "PASS exec under " + policy));
  }
  fs::remove_all(site);
}

}  // namespace lastack
