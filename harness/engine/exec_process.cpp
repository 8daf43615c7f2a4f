#include "harness/engine/exec_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <iterator>
#include <set>
#include <thread>
#include <utility>

#include "lastack/error.hpp"
#include "harness/sys/proc/fd.hpp"
#include "harness/sys/proc/namespace_processes.hpp"
#include "harness/sys/observe/sock_diag.hpp"

namespace lastack {

namespace {
constexpr std::size_t kChunk = 4096;
constexpr const char* kShell = "/bin/sh";
}  // namespace

ExecProcess::ExecProcess(asio::io_context& io, ExecConfig config, const sys::NetNamespace& ns)
    : io_(io), config_(std::move(config)), ns_(ns), output_(io), exited_(io), chunk_(kChunk) {
  if (!config_.on_event) config_.on_event = [](const AppEvent&) {};
}

// child_ kills its whole group and reaps it if still running; the descriptors close themselves.
ExecProcess::~ExecProcess() = default;

std::string ExecProcess::prefix(Side side) { return fmt::format("{}| ", side_name(side)); }

std::string ExecProcess::outcome_text(int exit_code) {
  if (exit_code <= 128) return fmt::format("exit {}", exit_code);
  const char* abbrev = ::sigabbrev_np(exit_code - 128);
  return abbrev ? fmt::format("signal {} (SIG{})", exit_code - 128, abbrev) : fmt::format("signal {}", exit_code - 128);
}

std::optional<int> ExecProcess::exit_code() const { return child_ ? child_->peek_exit() : std::nullopt; }

void ExecProcess::spawn() {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) sys::throw_errno("pipe for a command's output");
  sys::UniqueFd read_end(ends[0]), write_end(ends[1]);
  // No stdin: a command in its own process group reading the terminal would stop (SIGTTIN).
  sys::UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null.valid()) sys::throw_errno("open /dev/null");
  sys::SpawnOptions options;
  options.environment = config_.environment;
  if (config_.start_environment)
    for (std::string& e : config_.start_environment()) options.environment.push_back(std::move(e));
  options.own_process_group = true;  // SIGTERM reaches what the shell started, too
  child_.emplace(sys::ChildProcess::spawn(ns_, kShell, {"sh", "-c", config_.command},
                                          {{null.get(), 0}, {write_end.get(), 1}, {write_end.get(), 2}}, options));
  write_end.reset();
  // Non-blocking, so drain() never waits on a background process that still holds the pipe.
  ::fcntl(read_end.get(), F_SETFL, ::fcntl(read_end.get(), F_GETFL) | O_NONBLOCK);
  output_.assign(read_end.release());
  exited_.assign(child_->exit_descriptor().release());
  read_output();
}

std::vector<std::uint16_t> ExecProcess::listening_ports() {
  sys::SockDiag diag = sys::SockDiag::open_in(ns_);
  std::set<std::uint16_t> ports, on_loopback;
  // Either family: a server on the IPv6 wildcard also takes IPv4 connections.
  for (IpFamily family : {IpFamily::v4, IpFamily::v6})
    for (const sys::SocketSnapshot& s : diag.dump(family, sys::SocketStates::listeners))
      if (s.state == TcpState::LISTEN) (s.local.loopback() ? on_loopback : ports).insert(s.local_port);
  loopback_only_.clear();
  std::set_difference(on_loopback.begin(), on_loopback.end(), ports.begin(), ports.end(),
                      std::back_inserter(loopback_only_));
  return {ports.begin(), ports.end()};
}

void ExecProcess::refuse_loopback_only(const std::vector<std::uint16_t>& found) {
  std::vector<std::uint16_t> with_loopback = found;
  with_loopback.insert(with_loopback.end(), loopback_only_.begin(), loopback_only_.end());
  std::sort(with_loopback.begin(), with_loopback.end());
  if (loopback_only_.empty() || !ready(with_loopback)) {
    loopback_since_.reset();
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (!loopback_since_) loopback_since_ = now;
  if (now - *loopback_since_ < loopback_grace) return;
  drain();
  relay(true);
  std::string ports;
  for (std::uint16_t p : loopback_only_) ports += (ports.empty() ? "" : ", ") + std::to_string(p);
  throw HarnessError(fmt::format("server listens on {} on loopback only: the client, in its own namespace, cannot "
                                 "reach it (bind $LASTACK_SERVER_ADDR, or every address)",
                                 ports));
}

bool ExecProcess::ready(const std::vector<std::uint16_t>& found) const {
  if (config_.ports.empty()) return !found.empty();
  return std::all_of(config_.ports.begin(), config_.ports.end(), [&found](std::uint16_t p) {
    return std::find(found.begin(), found.end(), p) != found.end();
  });
}

std::string ExecProcess::awaited(const std::vector<std::uint16_t>& found) const {
  if (config_.ports.empty()) return "any port";
  std::string out;
  for (std::uint16_t p : config_.ports)
    if (std::find(found.begin(), found.end(), p) == found.end()) out += (out.empty() ? "" : ", ") + std::to_string(p);
  return out;
}

void ExecProcess::prepare() {
  if (config_.side != Side::server || child_) return;
  spawn();
  // Blocking on purpose: the run must not start the client before the server listens.
  const auto deadline = std::chrono::steady_clock::now() + listen_timeout;
  std::vector<std::uint16_t> found = listening_ports();
  while (!ready(found)) {
    // A server that daemonized (its command exited 0, its daemon still in the namespace) is
    // still on its way to listening.
    if (auto code = child_->peek_exit(); code && (*code != 0 || sys::processes_in(ns_).empty())) {
      drain();
      relay(true);
      throw HarnessError(fmt::format("server did not listen on {}: its command ended first ({})", awaited(found),
                                     outcome_text(*code)));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      drain();
      relay(true);
      throw HarnessError(fmt::format("server did not listen on {} within {} s", awaited(found), listen_timeout.count()));
    }
    refuse_loopback_only(found);
    std::this_thread::sleep_for(listen_poll);
    found = listening_ports();
  }
  if (config_.listening) *config_.listening = std::move(found);
}

void ExecProcess::start(std::function<void()> on_done) {
  if (started_ || stopped_) return;
  started_ = true;
  on_done_ = std::move(on_done);
  if (!child_) spawn();
  watch_exit();
}

void ExecProcess::watch_exit() {
  exited_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [this, alive = std::weak_ptr<char>(alive_)](const boost::system::error_code& ec) {
                       if (alive.expired() || stopped_ || ec) return;
                       const auto code = child_->peek_exit();
                       if (!code) return watch_exit();
                       // Not reaped yet: stop() still reaches anything it left running in its group.
                       drain();
                       record_exit(*code);
                       done_ = true;
                       if (on_done_) on_done_();
                     });
}

void ExecProcess::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (child_ && child_->running()) {
    const bool ran_on = !child_->peek_exit();
    child_->signal(SIGTERM);
    if (ran_on) {
      pollfd ended{exited_.native_handle(), POLLIN, 0};
      const auto grace = std::chrono::duration_cast<std::chrono::milliseconds>(term_grace);
      while (::poll(&ended, 1, static_cast<int>(grace.count())) < 0 && errno == EINTR) {
      }
    }
    const int code = child_->kill();  // SIGKILL to whatever of the group is left, then reap
    drain();
    if (ran_on) record_exit(code);
  }
  relay(true);
  boost::system::error_code ignored;
  output_.close(ignored);
  exited_.close(ignored);
}

void ExecProcess::record_exit(int code) {
  relay(true);  // a last line without a newline belongs to what the command printed
  // Not an agent step (kind unset): the user's command, ok when it exited 0.
  AppEvent e{config_.now ? config_.now() : Instant{}, config_.side, "command", outcome_text(code), 0,
             code == 0 ? StepResult::ok : StepResult::error, 0, CommandFacts{code, kept_, truncated_}};
  config_.on_event(e);
}

void ExecProcess::keep(std::string_view line) {
  if (truncated_) return;
  if (kept_bytes_ + line.size() + 1 > app_output_limit) {
    truncated_ = true;
    return;
  }
  kept_bytes_ += line.size() + 1;
  kept_.emplace_back(line);
}

void ExecProcess::read_output() {
  output_.async_read_some(asio::buffer(chunk_), [this, alive = std::weak_ptr<char>(alive_)](
                                                    const boost::system::error_code& ec, std::size_t n) {
    if (alive.expired() || stopped_) return;
    buffer_.append(chunk_.data(), n);
    relay(static_cast<bool>(ec));
    if (!ec) read_output();
  });
}

void ExecProcess::relay(bool flush) {
  const std::string pre = config_.prefix.empty() ? prefix(config_.side) : config_.prefix;
  std::size_t begin = 0;
  for (std::size_t end; (end = buffer_.find('\n', begin)) != std::string::npos; begin = end + 1) {
    std::fprintf(stdout, "%s%.*s\n", pre.c_str(), static_cast<int>(end - begin), buffer_.data() + begin);
    keep(std::string_view(buffer_).substr(begin, end - begin));
  }
  buffer_.erase(0, begin);
  if (flush && !buffer_.empty()) {
    std::fprintf(stdout, "%s%s\n", pre.c_str(), buffer_.c_str());
    keep(buffer_);
    buffer_.clear();
  }
  std::fflush(stdout);
}

void ExecProcess::drain() {
  const int fd = output_.native_handle();
  if (fd < 0) return;
  char chunk[kChunk];  // not chunk_: a pending async read may own it
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
  relay(false);
}

}  // namespace lastack
