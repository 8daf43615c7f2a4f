// Agents as processes of their own: `lastack agent` reports its steps as JSON lines, AgentProcess
// turns them into AppEvents and reaps the process, the `exit` policies show what the kernel does
// for a dying process, and no agent process outlives a run, even a killed one.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "step_outcome.hpp"
#include "harness/core/record/agent_message.hpp"
#include "lastack/error.hpp"
#include "lastack/policy_parser.hpp"
#include "harness/engine/agent_process.hpp"
#include "lastack/privilege.hpp"
#include "harness/sys/proc/process.hpp"
#include "lastack_process.hpp"
#include "loopback_sockets.hpp"

namespace lastack {
namespace {

using namespace std::chrono_literals;
using test::run_lastack;
using test::run_process;

const std::string kFixtures = LASTACK_FIXTURES;
constexpr std::uint16_t kPort = 8080;

std::vector<Step> steps_of(const std::vector<std::string>& texts) {
  std::vector<Step> steps;
  for (std::size_t i = 0; i < texts.size(); ++i) steps.push_back(parse_agent_step(texts[i], "test", i + 1));
  return steps;
}

using test::Outcome;

std::vector<Outcome> outcomes(const std::vector<AppEvent>& events) {
  std::vector<Outcome> list;
  for (const auto& e : events) list.push_back({e.step, e.outcome, e.bytes});
  return list;
}

AgentConfig config_for(Side side, const std::vector<std::string>& steps, std::vector<AppEvent>& events,
                       const char* address = "127.0.0.1") {
  AgentConfig config;
  config.side = side;
  config.steps = steps_of(steps);
  config.endpoint = {asio::ip::make_address(address), kPort};
  config.on_event = [&events](const AppEvent& e) { events.push_back(e); };
  return config;
}

/// Agent processes for both sides in one fresh namespace, driven like a run drives them.
class ProcessPair {
 public:
  ProcessPair(const std::vector<std::string>& server_steps, const std::vector<std::string>& client_steps)
      : ns_(test::loopback_namespace()),
        server_(io_, config_for(Side::server, server_steps, server_events), ns_, clock_, test::lastack_bin()),
        client_(io_, config_for(Side::client, client_steps, client_events), ns_, clock_, test::lastack_bin()) {}

  /// prepare, start both, and run until both are done or `limit` passed (then stop both, the
  /// server first). Returns how many called on_done.
  int run(std::chrono::milliseconds limit = 5s) {
    server_.prepare();
    int finished = 0;
    server_.start([&finished] { ++finished; });
    client_.start([&finished] { ++finished; });
    asio::steady_timer deadline(io_, limit);
    deadline.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      server_.stop();
      client_.stop();
    });
    while (finished < 2 && io_.run_one() > 0) {
    }
    deadline.cancel();
    io_.run();
    return finished;
  }

  const RunClock& clock() const { return clock_; }
  AgentProcess& server() { return server_; }
  AgentProcess& client() { return client_; }
  std::vector<AppEvent> server_events, client_events;

 private:
  sys::NetNamespace ns_;
  asio::io_context io_;
  RunClock clock_;
  AgentProcess server_, client_;
};

/// True when this process has no child left to reap (running or zombie).
bool no_children_left() {
  int status = 0;
  return ::waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The arguments of a process, NUL-separated in /proc, as a list ("" when it is gone).
std::vector<std::string> cmdline_of(pid_t pid) {
  const std::string raw = read_text("/proc/" + std::to_string(pid) + "/cmdline");
  std::vector<std::string> args;
  std::size_t start = 0;
  for (std::size_t end; (end = raw.find('\0', start)) != std::string::npos; start = end + 1)
    args.push_back(raw.substr(start, end - start));
  return args;
}

/// The parent pid in /proc/<pid>/stat (0 when it is gone).
pid_t parent_of(pid_t pid) {
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close_paren + 2));
  char state = 0;
  pid_t ppid = 0;
  rest >> state >> ppid;
  return ppid;
}

/// Every process now running `lastack agent` (by its arguments).
std::vector<pid_t> agent_processes() {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(name);
    const auto args = cmdline_of(pid);
    if (args.size() > 1 && args[0] == "lastack" && args[1] == "agent") found.push_back(pid);
  }
  return found;
}

}  // namespace

TEST_CASE("exit-unread-data: the dying client's kernel sends a RST and never a FIN", "[agent_process][policy]") {
  auto r = run_lastack({"run", "--color", "never", "exit-unread-data"});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("── R. seq 1 ack 1001") != std::string::npos);
  CHECK(r.out.find(" F. ") == std::string::npos);
  CHECK(r.out.find("server: recv-until-eof → ECONNRESET") != std::string::npos);
}

TEST_CASE("the exit policies pass for an unprivileged user", "[agent_process][policy][userns]") {
  if (sys::current_privilege_mode() == sys::PrivilegeMode::user_namespace) {
    SUCCEED("already unprivileged: the shipped-policy tests ran them through a user namespace");
    return;
  }
  auto r = run_process({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", test::lastack_bin(),
                        "--policy-dir", LASTACK_POLICY_DIR, "run", "--quiet", "--repeat", "3", "exit-clean",
                        "exit-unread-data"});
  INFO(r);
  // Sampled states: exit-unread-data's connection lives a few ms (read one byte, die), so the
  // sampler may miss its states; then its state and timewait checks are not checked (exit 5),
  // never passed.
  REQUIRE((r.exit_code == 0 || r.exit_code == 5));
  CHECK(r.out.find(" 0 failed") != std::string::npos);
  CHECK(r.out.find("PASS exit-clean") != std::string::npos);
  if (r.exit_code == 5) {
    CHECK(r.out.find("INCONCLUSIVE exit-unread-data: not checked: ") != std::string::npos);
    CHECK(r.out.find("states sampled every 2 ms; short states may be missed") != std::string::npos);
  }
}

TEST_CASE("lastack agent writes one JSON line per step, and its ports once connected", "[agent_process]") {
  const sys::NetNamespace ns = test::loopback_namespace();
  asio::io_context io;
  const RunClock clock;
  std::vector<AppEvent> server_events;
  AgentProcess server(io, config_for(Side::server, {"accept", "recv-until-eof", "close"}, server_events), ns, clock,
                      test::lastack_bin());
  server.prepare();

  const auto before = std::chrono::steady_clock::now().time_since_epoch();
  const auto client = sys::run_in_netns(ns,
                                        {test::lastack_bin(), "agent", "--side", "client", "--address", "127.0.0.1",
                                         "--port", std::to_string(kPort), "--step", "connect", "--step",
                                         "send 1000", "--step", "exit"},
                                        "");
  const auto after = std::chrono::steady_clock::now().time_since_epoch();
  INFO(client.output);
  REQUIRE(client.exit_code == 0);
  std::vector<AgentMessage> lines;
  std::istringstream output(client.output);
  for (std::string line; std::getline(output, line);) lines.push_back(parse_agent_message(line));
  REQUIRE(lines.size() == 4);
  const auto* ports = std::get_if<AgentPortsMessage>(&lines[0]);
  REQUIRE(ports != nullptr);
  CHECK(ports->local != 0);
  CHECK(ports->remote == kPort);
  std::vector<Outcome> steps;
  auto previous = before;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto* step = std::get_if<AgentStepMessage>(&lines[i]);
    REQUIRE(step != nullptr);
    steps.push_back({step->step, step->outcome, step->bytes});
    CHECK(step->monotonic >= previous);  // CLOCK_MONOTONIC, in step order
    CHECK(step->monotonic <= after);
    previous = step->monotonic;
  }
  CHECK(steps == std::vector<Outcome>{{"connect", "ok", 0}, {"send 1000", "ok", 1000}, {"exit", "ok", 0}});

  // Nothing left unread: the kernel closed the dead client's socket with a FIN, so the server saw EOF.
  bool server_done = false;
  server.start([&server_done] { server_done = true; });
  io.run_for(5s);
  REQUIRE(server_done);
  CHECK(outcomes(server_events) ==
        std::vector<Outcome>{{"accept", "ok", 0}, {"recv-until-eof", "eof", 1000}, {"close", "ok", 0}});
  CHECK(server.remote_port() == ports->local);
}

TEST_CASE("AgentProcess reports the steps as AppEvents on the run's clock and reaps its process",
          "[agent_process]") {
  ProcessPair pair({"accept", "send 1000", "sleep 100ms", "recv-until-eof"}, {"connect", "sleep 50ms", "exit"});
  REQUIRE(pair.run() == 2);
  CHECK(outcomes(pair.server_events) == std::vector<Outcome>{{"accept", "ok", 0},
                                                             {"send 1000", "ok", 1000},
                                                             {"sleep 100ms", "ok", 0},
                                                             {"recv-until-eof", "ECONNRESET", 0}});
  CHECK(outcomes(pair.client_events) ==
        std::vector<Outcome>{{"connect", "ok", 0}, {"sleep 50ms", "ok", 0}, {"exit", "ok", 0}});
  CHECK(pair.server().done());
  CHECK(pair.server().failed());  // ECONNRESET was not what recv-until-eof meant
  CHECK(pair.client().done());
  CHECK_FALSE(pair.client().failed());
  REQUIRE(pair.client().local_port());
  CHECK(pair.server().remote_port() == pair.client().local_port());
  CHECK(pair.client().remote_port() == kPort);
  const Instant end = pair.clock().now();
  for (const auto* events : {&pair.server_events, &pair.client_events}) {
    for (std::size_t i = 0; i < events->size(); ++i) {
      CHECK((*events)[i].at > Instant{});
      CHECK((*events)[i].at <= end);
      if (i > 0) CHECK((*events)[i].at >= (*events)[i - 1].at);
    }
  }
  // The client's sleep is measured between its own events: the clocks are the same clock.
  CHECK(pair.client_events[1].at - pair.client_events[0].at >= 50ms);
  CHECK(no_children_left());
}

TEST_CASE("stop() kills an agent process mid-step and reports that step aborted", "[agent_process]") {
  ProcessPair pair({"accept", "recv-until-eof", "close"}, {"connect", "sleep 10s", "exit"});
  REQUIRE(pair.run(500ms) == 0);
  CHECK(outcomes(pair.server_events) ==
        std::vector<Outcome>{{"accept", "ok", 0}, {"recv-until-eof", "aborted", 0}});
  CHECK(outcomes(pair.client_events) == std::vector<Outcome>{{"connect", "ok", 0}, {"sleep 10s", "aborted", 0}});
  CHECK_FALSE(pair.server().done());
  CHECK_FALSE(pair.client().done());
  CHECK(no_children_left());
}

TEST_CASE("a server agent process that cannot listen fails prepare() with a harness error", "[agent_process]") {
  const sys::NetNamespace ns = test::loopback_namespace();
  asio::io_context io;
  const RunClock clock;
  std::vector<AppEvent> events;
  // 192.0.2.1 (TEST-NET-1) is no address of this namespace: bind fails in the child.
  AgentProcess server(io, config_for(Side::server, {"accept", "close"}, events, "192.0.2.1"), ns, clock,
                      test::lastack_bin());
  CHECK_THROWS_WITH(server.prepare(), Catch::Contains("server agent process ended before listening (exit code 4)"));
  CHECK(no_children_left());
}

TEST_CASE("a run killed with SIGKILL leaves no lastack agent process behind", "[agent_process][cleanup]") {
  // Orphans come to us instead of init, so we can see how the agent ended.
  REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  const pid_t run = ::fork();
  if (run == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDOUT_FILENO);
    const std::string bin = test::lastack_bin();
    ::execl(bin.c_str(), bin.c_str(), "--policy-dir", LASTACK_POLICY_DIR, "run", "--quiet",
            (kFixtures + "/policies/exit-late.toml").c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  // The fixture's client process sleeps 3 s: wait until it runs, then kill the run.
  std::vector<pid_t> agents;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (agents.empty() && std::chrono::steady_clock::now() < deadline) {
    for (const pid_t pid : agent_processes())
      if (parent_of(pid) == run) agents.push_back(pid);
    if (agents.empty()) std::this_thread::sleep_for(5ms);
  }
  ::kill(run, SIGKILL);
  int status = 0;
  ::waitpid(run, &status, 0);
  REQUIRE(agents.size() == 1);

  // PR_SET_PDEATHSIG: the agent got SIGKILL when the run died; orphaned, it was handed to us.
  pid_t reaped = 0;
  const auto reap_deadline = std::chrono::steady_clock::now() + 5s;
  while ((reaped = ::waitpid(agents[0], &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < reap_deadline)
    std::this_thread::sleep_for(5ms);
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  REQUIRE(reaped == agents[0]);
  CHECK(WIFSIGNALED(status));
  // The dying run closes its files before the kernel sends the death signal (do_exit: exit_files,
  // then exit_notify): an agent writing to it in between dies of SIGPIPE first, as seen once.
  const int signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  CHECK((signal == SIGKILL || signal == SIGPIPE));
  CHECK(cmdline_of(agents[0]).empty());
}

}  // namespace lastack
