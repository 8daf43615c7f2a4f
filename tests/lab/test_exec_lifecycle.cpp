// `lastack exec` and the programs' lives: a server that daemonizes (double fork, new session) is
// found in its namespace, waited for, named and ended with the run; a client expected to fail
// says so with `exit = N`, which replaces the built-in "exits 0"; a daemon ends even when lastack
// is killed with SIGKILL (the orphan reaper).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "lastack_process.hpp"

namespace lastack {
namespace {

using test::run_lastack;

using test::contains;

std::string temp_policy(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("lastack-lifecycle-" + name + ".toml");
  std::ofstream(path) << text;
  return path.string();
}

// Processes anywhere on the machine whose argv[0] is `marker` (the server took it with `exec -a`,
// socat: a binary, no wrapper script to re-exec it; lastack's own command line only contains it).
std::size_t processes_with(const std::string& marker) {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string argv0;
    std::getline(in, argv0, '\0');
    if (argv0 == marker) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("a server that daemonizes is waited for, named, and ends with the run") {
  // Double fork into a new session: the shell exits 0 at once, the server lives on, reparented.
  const std::string marker = "lastack-daemon-marker-" + std::to_string(::getpid());
  const std::string server = "(setsid bash -c 'exec -a " + marker +
                             " socat TCP-LISTEN:8000,bind=$LASTACK_SERVER_ADDR,reuseaddr,fork SYSTEM:true' >/dev/null 2>&1 &)";
  const auto out = run_lastack({"exec", "--policy", "drop-final-ack", "--port", "8000", "--server", server,
                                "--client", "curl -s -o /dev/null http://$LASTACK_SERVER_ADDR:8000/"});
  INFO(out);
  CHECK(contains(out.out, "socat (pid "));  // its comm: the program, whatever argv[0] it took
  CHECK(contains(out.out, "was still running in the server's namespace after its command (it daemonized or left "
                          "its session): ended with the run"));
  CHECK(processes_with(marker) == 0);
  CHECK(out.exit_code != 4);  // the run itself went as any other
}

TEST_CASE("a client expected to fail: exit = 28 replaces the built-in exits 0") {
  // Every SYN lost: curl gives up after --max-time with exit 28.
  const std::string policy = temp_policy("curl-timeout", R"(name = "curl-timeout"
summary = "Every SYN lost: curl times out, as the test expects"
[scenario]
client = ["connect", "close"]
server = ["accept", "close"]
timeout = "10s"
[[fault]]
segment = "syn"
from = "client"
action = "drop"
count = 100
[[expect]]
check = "app"
side = "client"
exit = 28
)");
  const auto out = run_lastack({"exec", "--policy", policy, "--port", "8000", "--quiet", "--server",
                                "python3 -m http.server 8000 --bind $LASTACK_SERVER_ADDR", "--client",
                                "curl -s --max-time 2 http://$LASTACK_SERVER_ADDR:8000/"});
  std::filesystem::remove(policy);
  INFO(out);
  CHECK(out.exit_code == 0);
  CHECK(contains(out.out, "PASS exec under curl-timeout"));
  CHECK_FALSE(contains(out.out, "client command exits 0"));
}

TEST_CASE("a server listening on loopback only is one line naming it, exit 4, and nothing left behind") {
  const std::string marker = "lastack-loopback-marker-" + std::to_string(::getpid());
  const auto out = run_lastack({"exec", "--policy", "drop-final-ack", "--port", "8000", "--server",
                                "bash -c 'exec -a " + marker + " socat TCP-LISTEN:8000,bind=127.0.0.1,reuseaddr SYSTEM:true'",
                                "--client",
                                "curl -s http://$LASTACK_SERVER_ADDR:8000/"});
  INFO(out);
  CHECK(out.exit_code == 4);
  CHECK(contains(out.err, "server listens on 8000 on loopback only: the client, in its own namespace, cannot reach "
                          "it (bind $LASTACK_SERVER_ADDR, or every address)"));
  CHECK(processes_with(marker) == 0);
}

TEST_CASE("a daemon ends even when lastack itself is killed with SIGKILL") {
  const std::string marker = "lastack-killed-marker-" + std::to_string(::getpid());
  const std::string server = "(setsid bash -c 'exec -a " + marker +
                             " socat TCP-LISTEN:8000,bind=$LASTACK_SERVER_ADDR,reuseaddr,fork SYSTEM:true' >/dev/null 2>&1 &)";
  const std::string bin = test::lastack_bin();
  const char* argv[] = {bin.c_str(), "exec", "--policy", "drop-final-ack", "--port", "8000", "--quiet", "--server",
                        server.c_str(), "--client", "sleep 30", nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  REQUIRE(::posix_spawn(&pid, bin.c_str(), &actions, nullptr, const_cast<char* const*>(argv), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  const auto wait_for = [](auto condition) {
    for (int i = 0; i < 500 && !condition(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return condition();
  };
  CHECK(wait_for([&] { return processes_with(marker) == 1; }));  // the daemon serves
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  CHECK(wait_for([&] { return processes_with(marker) == 0; }));
}

}  // namespace lastack
