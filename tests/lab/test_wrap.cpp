// `lastack wrap`: an unmodified command in one lab namespace whose loopback carries the faults.
// A pytest suite that starts its own server on 127.0.0.1 runs unchanged under drop-syn and
// drop-final-ack; a redis-server and redis-cli, both inside, lose the server's answers; the exit
// status is the command's when the verdicts hold and 111 when one fails; bad input is one line;
// what the command started ends with the run.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "lastack_process.hpp"

namespace lastack {
namespace {

using test::run_lastack;

using test::contains;

const std::string kSuite = std::string(LASTACK_LAB_DIR) + "/wrap_pytest";

// `lastack wrap --policy POLICY --port 8765 -- env LOST_SYNS=N python3 -m pytest -q SUITE`.
test::ProcessOutput pytest_under(const std::string& policy, int lost_syns) {
  return run_lastack({"wrap", "--policy", policy, "--port", "8765", "--", "env", "LOST_SYNS=" + std::to_string(lost_syns),
                      "/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", kSuite});
}

}  // namespace

TEST_CASE("wrap: a pytest suite with its own server on 127.0.0.1 sees its connect retried under drop-syn") {
  const auto out = pytest_under("drop-syn", 1);
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "| 2 passed"));  // the suite's own asserts: TCP_INFO counted one SYN retransmission
  CHECK(contains(out.out, "retransmitted syn from client"));  // the verdict table, on the kernel's word
  CHECK(contains(out.out, "PASS wrap under drop-syn: fault 1 hit connections 1, 2"));
  CHECK_FALSE(contains(out.out, "harness error:"));
}

TEST_CASE("wrap: the same suite unchanged under drop-final-ack: each connection's FIN comes again") {
  const auto out = pytest_under("drop-final-ack", 0);
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "| 2 passed"));
  CHECK(contains(out.out, "PASS wrap under drop-final-ack: fault 1 hit connections 1, 2"));
}

TEST_CASE("wrap without --port judges every TCP connection: the suite under drop-final-ack") {
  const auto out = run_lastack({"wrap", "--policy", "drop-final-ack", "--quiet", "--", "env", "LOST_SYNS=0",
                                "/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", kSuite});
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "PASS wrap under drop-final-ack: fault 1 hit connections 1, 2"));
}

TEST_CASE("wrap -6: a server and client on ::1 lose the first SYN") {
  const std::string script =
      "import socket, threading\n"
      "l = socket.socket(socket.AF_INET6); l.bind(('::1', 8766)); l.listen()\n"
      "def serve():\n"
      "    c, _ = l.accept(); c.sendall(c.recv(100).upper()); c.close()\n"
      "t = threading.Thread(target=serve); t.start()\n"
      "s = socket.create_connection(('::1', 8766)); s.sendall(b'hi'); print(s.recv(100).decode()); s.close(); t.join()\n";
  const auto out = run_lastack({"wrap", "-6", "--policy", "drop-syn", "--port", "8766", "--quiet", "--", "/usr/bin/python3",
                                "-c", script});
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "| HI"));
  CHECK(contains(out.out, "PASS wrap under drop-syn"));
}

TEST_CASE("wrap: the suite's own failure is wrap's status when the verdicts hold") {
  // The suite expects two lost SYNs per connection; the network loses one: pytest fails (1),
  // lastack's verdicts hold, and wrap exits with pytest's status.
  const auto out = pytest_under("drop-syn", 2);
  INFO(out);
  CHECK(out.exit_code == 1);
  CHECK(contains(out.out, "PASS wrap under drop-syn"));
  CHECK(contains(out.out, "the command exited 1, and so does wrap"));
}

TEST_CASE("wrap: a verdict that fails exits 111 whatever the command's status") {
  // No connection at all: drop-syn's SYN is never retransmitted.
  const auto out = run_lastack({"wrap", "--policy", "drop-syn", "--port", "8765", "--quiet", "--", "true"});
  INFO(out);
  CHECK(out.exit_code == 111);
  CHECK(contains(out.out, "FAIL wrap under drop-syn"));
  CHECK(contains(out.out, "wrap exits 111 (a verdict failed)"));
}

TEST_CASE("wrap: a command the run's timeout ends fails the check that it ends and has no status of its own") {
  const auto out = run_lastack({"wrap", "--policy", "drop-syn", "--timeout", "1s", "--quiet", "--", "sleep", "30"});
  INFO(out);
  CHECK(out.exit_code == 111);
  CHECK(contains(out.out, "the run timed out first (then: signal 15 (SIGTERM))"));
}

TEST_CASE("wrap: redis-server and redis-cli both inside lose the server's first three answers") {
  const std::string sock = "/tmp/lastack-wrap-redis-" + std::to_string(::getpid()) + ".sock";
  const std::string session =
      "redis-server --port 6390 --bind 127.0.0.1 --unixsocket " + sock +
      " --save '' --appendonly no --daemonize yes --logfile '' && "
      // Ready when it answers on its unix socket: no TCP connection before the session's own.
      "until redis-cli -s " + sock + " ping >/dev/null 2>&1; do sleep 0.05; done && "
      // One command per connection (with no command, redis-cli first asks for COMMAND DOCS: a
      // reply of several segments, whose losses fast retransmission repairs, not the timer).
      "redis-cli -p 6390 SET greeting hello && redis-cli -p 6390 GET greeting";
  const auto out = run_lastack({"wrap", "--policy", std::string(LASTACK_LAB_DIR) + "/wrap_redis/redis-data-lost.toml",
                                "--port", "6390", "--", "sh", "-c", session});
  std::filesystem::remove(sock);
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "| OK"));
  CHECK(contains(out.out, "| hello"));
  CHECK(contains(out.out, "retransmitted data from server"));
  CHECK(contains(out.out, "PASS wrap under redis-data-lost"));
  // redis-server daemonized: it is named and ended with the run.
  CHECK(contains(out.out, "redis-server (pid "));
}

TEST_CASE("wrap: a redis-cli session through a 3 s dark window waits, and the kernel resends into it") {
  const std::string sock = "/tmp/lastack-wrap-redis-dark-" + std::to_string(::getpid()) + ".sock";
  const std::string session =
      "redis-server --port 6391 --bind 127.0.0.1 --unixsocket " + sock +
      " --save '' --appendonly no --daemonize yes --logfile '' && "
      "until redis-cli -s " + sock + " ping >/dev/null 2>&1; do sleep 0.05; done && "
      "redis-cli -p 6391 SET greeting hello && redis-cli -p 6391 GET greeting";
  const auto out = run_lastack({"wrap", "--policy", std::string(LASTACK_LAB_DIR) + "/wrap_redis/redis-dark-window.toml",
                                "--port", "6391", "--", "sh", "-c", session});
  std::filesystem::remove(sock);
  INFO(out);
  CHECK(out.exit_code == 0);
  // redis-cli has no read timeout: it waits out the window and prints each answer.
  CHECK(contains(out.out, "| OK"));
  CHECK(contains(out.out, "| hello"));
  // The ladder: the window's edges, and the server kernel's retransmissions between them.
  CHECK(contains(out.out, "window opens"));
  CHECK(contains(out.out, "window closes"));
  CHECK(contains(out.out, "retransmitted data from server"));
  CHECK(contains(out.out, "PASS wrap under redis-dark-window"));
}

TEST_CASE("wrap: bad input is one line and exit 2 before anything runs") {
  const auto unknown = run_lastack({"wrap", "--policy", "no-such-policy", "--", "true"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find('\n') == unknown.err.size() - 1);
  const auto no_command = run_lastack({"wrap", "--policy", "drop-syn"});
  CHECK(no_command.exit_code == 2);
  const auto duplicate = run_lastack({"wrap", "--policy", "duplicate-fin", "--", "true"});
  INFO(duplicate.err);
  CHECK(duplicate.exit_code == 2);
  CHECK(contains(duplicate.err, "duplicate-fin.toml:"));
  CHECK(contains(duplicate.err, "duplicate is not supported under wrap"));
  CHECK(duplicate.err.find('\n') == duplicate.err.size() - 1);
  const auto lab = run_lastack({"wrap", "--policy", "rst-in-timewait", "--", "true"});
  CHECK(lab.exit_code == 2);
  CHECK(contains(lab.err, "[[lab]] actions are not supported under wrap"));
}

TEST_CASE("wrap: what the command leaves running ends with the run") {
  const std::string pid_file = "/tmp/lastack-wrap-orphan-" + std::to_string(::getpid());
  const auto out = run_lastack({"wrap", "--policy", "drop-syn", "--", "sh", "-c",
                                "setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $! > " + pid_file});
  INFO(out);
  std::ifstream in(pid_file);
  int pid = 0;
  in >> pid;
  std::filesystem::remove(pid_file);
  REQUIRE(pid > 0);
  // Gone, or a zombie that init has yet to reap (it was reparented to lastack, which has exited).
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, comm, state;
  stat >> pid_field >> comm >> state;
  CHECK((!stat.good() || state == "Z"));
  CHECK(contains(out.out, "sleep (pid " + std::to_string(pid) + ") was still running in the wrapped command's namespace"));
}

}  // namespace lastack
