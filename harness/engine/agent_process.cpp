#include "harness/engine/agent_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <utility>
#include <variant>

#include "harness/core/record/agent_message.hpp"
#include "lastack/error.hpp"
#include "harness/sys/proc/fd.hpp"

namespace lastack {

namespace {
constexpr std::size_t kChunk = 4096;
}  // namespace

AgentProcess::AgentProcess(asio::io_context& io, AgentConfig config, const sys::NetNamespace& ns,
                           const RunClock& clock, std::string program)
    : config_(std::move(config)),
      ns_(ns),
      clock_(clock),
      program_(std::move(program)),
      events_(io),
      chunk_(kChunk) {
  if (!config_.on_event) config_.on_event = [](const AppEvent&) {};
}

// child_ kills and reaps a process still running; events_ closes the pipe.
AgentProcess::~AgentProcess() = default;

std::vector<std::string> AgentProcess::command_line(const AgentConfig& config) {
  std::vector<std::string> argv{"lastack",
                                "agent",
                                "--side",
                                std::string(side_name(config.side)),
                                "--address",
                                config.endpoint.address().to_string(),
                                "--port",
                                std::to_string(config.endpoint.port()),
                                "--events-fd",
                                std::to_string(kEventsFd)};
  for (const Step& step : config.steps) {
    argv.push_back("--step");
    argv.push_back(step.text);
  }
  return argv;
}

void AgentProcess::spawn() {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) sys::throw_errno("pipe for an agent process's events");
  sys::UniqueFd read_end(ends[0]), write_end(ends[1]);
  child_.emplace(sys::ChildProcess::spawn(ns_, program_, command_line(config_),
                                          {{write_end.get(), kEventsFd}}));
  write_end.reset();  // the child's copy is the only writer left: its exit is our EOF
  events_.assign(read_end.release());
}

void AgentProcess::prepare() {
  if (config_.side != Side::server || child_) return;
  spawn();
  // Blocking on purpose: the run must not start the client before the server listens.
  const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  const int fd = events_.native_handle();
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      throw HarnessError(fmt::format("{} did not report listening within {} s", name(), ready_timeout.count()));
    pollfd readable{fd, POLLIN, 0};
    const int polled = ::poll(&readable, 1, static_cast<int>(left.count()));
    if (polled < 0 && errno != EINTR) sys::throw_errno("poll an agent process's events");
    if (polled <= 0) continue;
    const ssize_t n = ::read(fd, chunk_.data(), chunk_.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) sys::throw_errno("read an agent process's events");
    if (n == 0)
      throw HarnessError(fmt::format("{} ended before listening (exit code {})", name(), child_->wait()));
    buffer_.append(chunk_.data(), static_cast<std::size_t>(n));
    if (take_lines()) return;
  }
}

void AgentProcess::start(std::function<void()> on_done) {
  if (started_ || stopped_) return;
  started_ = true;
  on_done_ = std::move(on_done);
  if (config_.side == Side::server) prepare();
  else if (!child_) spawn();
  read_more();
}

void AgentProcess::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (child_ && child_->running()) {
    const int code = child_->kill();
    drain();
    // Killed by us (not already gone on its own): the step it was in never finished.
    if (code == 128 + SIGKILL && next_ < config_.steps.size())
      config_.on_event(AppEvent{clock_.now(), config_.side, config_.steps[next_].text, "aborted", 0,
                                StepResult::aborted, 0, AgentStepFacts{config_.steps[next_].kind}});
  }
  boost::system::error_code ignored;
  events_.close(ignored);
}

void AgentProcess::read_more() {
  events_.async_read_some(asio::buffer(chunk_), [this, alive = std::weak_ptr<char>(alive_)](
                                                    const boost::system::error_code& ec, std::size_t n) {
    if (alive.expired() || stopped_) return;
    buffer_.append(chunk_.data(), n);
    take_lines();
    if (ec) return on_exit();  // EOF: the process closed its end, i.e. it is exiting
    read_more();
  });
}

bool AgentProcess::take_lines() {
  bool ready = false;
  std::size_t begin = 0;
  for (std::size_t end; (end = buffer_.find('\n', begin)) != std::string::npos; begin = end + 1) {
    const std::string_view line(buffer_.data() + begin, end - begin);
    if (!line.empty() && take_line(line)) ready = true;
  }
  buffer_.erase(0, begin);
  return ready;
}

bool AgentProcess::take_line(std::string_view line) {
  const AgentMessage message = parse_agent_message(line);
  if (std::holds_alternative<AgentReadyMessage>(message)) return true;
  if (const auto* ports = std::get_if<AgentPortsMessage>(&message)) {
    local_port_ = ports->local;
    remote_port_ = ports->remote;
  } else if (const auto* step = std::get_if<AgentStepMessage>(&message)) {
    AppEvent e{clock_.from_monotonic(step->monotonic), config_.side, step->step, step->outcome, step->bytes};
    e.result = step->result;
    e.error = step->error;
    // Steps are reported in order (some skipped after a failure): the next one starts after this.
    for (std::size_t i = next_; i < config_.steps.size(); ++i) {
      if (config_.steps[i].text != step->step) continue;
      e.facts = AgentStepFacts{config_.steps[i].kind, step->corrupted, step->corrupted_from, step->verified};
      next_ = i + 1;
      break;
    }
    config_.on_event(e);
  }
  return false;
}

void AgentProcess::drain() {
  const int fd = events_.native_handle();
  if (fd < 0) return;
  for (;;) {
    const ssize_t n = ::read(fd, chunk_.data(), chunk_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer_.append(chunk_.data(), static_cast<std::size_t>(n));
  }
  take_lines();
  buffer_.clear();  // whole lines only: a line is written at once, so a rest is not a message
}

void AgentProcess::on_exit() {
  if (!buffer_.empty()) take_line(buffer_);
  buffer_.clear();
  boost::system::error_code ignored;
  events_.close(ignored);
  const int code = child_->wait();
  if (code != static_cast<int>(ExitCode::ok) && code != static_cast<int>(ExitCode::check_failed))
    throw HarnessError(fmt::format("{} ended with exit code {}{}", name(), code,
                                   code > 128 ? fmt::format(" (signal {})", code - 128) : ""));
  done_ = true;
  failed_ = code == static_cast<int>(ExitCode::check_failed);
  if (on_done_) on_done_();
}

std::string AgentProcess::name() const { return fmt::format("the {} agent process", side_name(config_.side)); }

}  // namespace lastack
