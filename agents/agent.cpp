#include "agents/agent.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <array>
#include <chrono>
#include <utility>

#include "agents/outcome_name.hpp"
#include "harness/core/trace/byte_pattern.hpp"
#include "lastack/error.hpp"

namespace lastack {

namespace {

using boost::system::error_code;

/// The result a step has when it did what the policy meant.
StepResult expected_result(StepKind kind) {
  return kind == StepKind::recv_until_eof ? StepResult::eof : StepResult::ok;
}

/// Steps that still run after a failed step, so an agent that saw an error still closes (or dies).
bool runs_after_failure(StepKind kind) {
  return kind == StepKind::close || kind == StepKind::abort || kind == StepKind::sleep || kind == StepKind::exit;
}

/// `handler`, made a no-op once the object behind `alive` is gone.
template <typename Handler>
struct WhileAlive {
  std::weak_ptr<char> alive;
  Handler handler;
  // SFINAE on the handler's own signature, so Asio's overloads (async_accept's) still resolve.
  template <typename... Args>
  auto operator()(Args&&... args) -> decltype(handler(std::forward<Args>(args)...)) {
    if (alive.expired()) return;
    handler(std::forward<Args>(args)...);
  }
};

template <typename Handler>
WhileAlive<Handler> while_alive(const std::shared_ptr<char>& alive, Handler handler) {
  return {alive, std::move(handler)};
}

}  // namespace

Agent::Agent(asio::io_context& io, AgentConfig config)
    : io_(io),
      config_(std::move(config)),
      listener_(config_.listener ? config_.listener : std::make_shared<SharedListener>(io)),
      socket_(io),
      timer_(io),
      verifier_(peer_of(config_.side), 0) {
  if (!config_.in_namespace) config_.in_namespace = [](const std::function<void()>& fn) { fn(); };
  if (!config_.now)
    config_.now = [start = std::chrono::steady_clock::now()] {
      return Instant(std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start));
    };
  if (!config_.on_event) config_.on_event = [](const AppEvent&) {};
}

// Members close the sockets; handlers still queued see `alive_` expired and do nothing.
Agent::~Agent() = default;

void Agent::prepare() {
  if (config_.side != Side::server || listened_) return;  // once: the accept closes it for good
  const bool accepts = std::any_of(config_.steps.begin(), config_.steps.end(),
                                   [](const Step& s) { return s.kind == StepKind::accept; });
  if (!accepts) return;  // a server that connects (simultaneous open) never listens
  listened_ = true;
  if (listener_->acceptor.is_open()) return;  // another copy of this server opened it
  asio::ip::tcp::acceptor& acceptor = listener_->acceptor;
  error_code ec;
  const char* what = "open";
  in_namespace([&] {
    acceptor.open(config_.endpoint.protocol(), ec);
    if (ec) return;
    what = "set SO_REUSEADDR on";
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) return;
    what = "bind";
    acceptor.bind(config_.endpoint, ec);
    if (ec) return;
    what = "listen";
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  });
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);
    throw HarnessError(fmt::format("server agent: {} on {}:{}: {}", what,
                                   config_.endpoint.address().to_string(), config_.endpoint.port(),
                                   ec.message()));
  }
}

void Agent::start(std::function<void()> on_done) {
  if (started_) return;
  started_ = true;
  on_done_ = std::move(on_done);
  prepare();
  // Posted, so no step (and no callback) runs inside start() itself.
  asio::post(io_, while_alive(alive_, [this] {
               if (!stopped_) run_next();
             }));
}

void Agent::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (pending_ && next_ < config_.steps.size())
    report(config_.steps[next_], StepResult::aborted, 0, "aborted", moved(config_.steps[next_]));
  pending_ = false;
  error_code ignored;
  socket_.cancel(ignored);
  listener_->acceptor.cancel(ignored);
  timer_.cancel();
}

void Agent::run_next() {
  if (stopped_) return;  // stop() may be called from on_event
  while (next_ < config_.steps.size()) {
    const Step& step = config_.steps[next_];
    if (!failed_ || runs_after_failure(step.kind)) return begin(step);
    ++next_;  // skipped: the failure already ended what this step was for
  }
  if (done_) return;
  done_ = true;
  if (on_done_) on_done_();
}

void Agent::begin(const Step& step) {
  step_sent_ = step_received_ = 0;
  switch (step.kind) {
    case StepKind::connect: return begin_connect(step);
    case StepKind::bind:
      bind_port_ = step.port;
      return complete(error_code{});
    case StepKind::accept:
      return config_.side == Side::server ? begin_accept() : unsupported();
    case StepKind::send: return send_more(step.bytes, [this] { complete(error_code{}); });
    case StepKind::recv: return recv_more(step.bytes, [this] { complete(error_code{}); });
    case StepKind::recv_until_eof: return recv_more(std::nullopt, [this] { complete(error_code{}); });
    case StepKind::exchange:
    case StepKind::answer: return exchange_round(step);
    case StepKind::nodelay: {
      error_code ec;
      socket_.set_option(asio::ip::tcp::no_delay(true), ec);
      return complete(ec);
    }
    case StepKind::shutdown_write: {
      error_code ec;
      socket_.shutdown(asio::socket_base::shutdown_send, ec);
      return complete(ec);
    }
    case StepKind::close: return close_now(false);
    case StepKind::abort: return close_now(true);
    case StepKind::sleep: return begin_sleep(step.duration);
    case StepKind::exit:
      if (!config_.exit_process) return unsupported();  // needs `lastack agent`
      report(step, StepResult::ok, 0, "ok", 0);
      config_.exit_process();  // normally no return: the kernel closes the sockets as the process dies
      ++next_;
      return run_next();
  }
  unsupported();
}

void Agent::unsupported() { finish(StepResult::unsupported, 0, "unsupported"); }

void Agent::complete(const error_code& ec) {
  int err = 0;
  const StepResult result = step_result(ec, err);
  finish(result, err, outcome_name(ec));
}

void Agent::finish(StepResult result, int err, const std::string& text) {
  pending_ = false;
  const Step& step = config_.steps[next_];
  if (result != expected_result(step.kind)) failed_ = true;
  report(step, result, err, text, moved(step));
  ++next_;
  run_next();
}

void Agent::report(const Step& step, StepResult result, int err, const std::string& text, std::uint64_t bytes) {
  AppEvent e{now(), config_.side, step.text, text, bytes};
  e.result = result;
  e.error = err;
  AgentStepFacts& facts = e.facts.emplace<AgentStepFacts>();
  facts.kind = step.kind;
  if (step.kind == StepKind::recv || step.kind == StepKind::recv_until_eof || step.kind == StepKind::exchange ||
      step.kind == StepKind::answer) {
    facts.verified = true;
    // The first corrupted range, once: on the step that read it.
    if (verifier_.corrupted() && !corruption_reported_) {
      facts.corrupted = verifier_.corrupted();
      facts.corrupted_from = verifier_.corrupted_from();
      corruption_reported_ = true;
    }
  }
  config_.on_event(e);
}

void Agent::begin_connect(const Step& step) {
  // The client goes to the server (its port, or `connect N`'s); a server to the client's port N.
  asio::ip::tcp::endpoint target = config_.endpoint;
  if (config_.side == Side::server) target = {config_.client_address, step.port};
  else if (step.port != 0) target.port(step.port);
  // A server that connects does so from its own port (the scenario's), unless it bound another.
  const std::uint16_t local = bind_port_ != 0 || config_.side == Side::client ? bind_port_ : config_.endpoint.port();
  error_code ec;
  in_namespace([&] {
    socket_.open(target.protocol(), ec);
    if (ec || local == 0) return;
    // SO_REUSEADDR: a port whose last connection ended (not one in TIME_WAIT) binds again at once.
    socket_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) socket_.bind({target.protocol() == asio::ip::tcp::v6() ? asio::ip::address(asio::ip::address_v6::any())
                                                                     : asio::ip::address(asio::ip::address_v4::any()),
                           local},
                          ec);
  });
  if (ec) {
    error_code ignored;
    socket_.close(ignored);
    return complete(ec);
  }
  pending_ = true;
  const std::uint64_t attempt = ++connect_attempt_;
  socket_.async_connect(target, while_alive(alive_, [this, attempt](const error_code& result) {
                          // An abandoned attempt's handler may run after the next one began.
                          if (stopped_ || attempt != connect_attempt_ || abandoned_ == attempt) return;
                          timer_.cancel();
                          if (!result) begin_connection();
                          complete(result);
                        }));
  // Asio has already called connect(): the SYN's source port is bound, so SYN_SENT samples
  // (and a refused or timed-out connect) can be attributed too.
  error_code ignored;
  if (auto local = socket_.local_endpoint(ignored); !ignored) local_port_ = local.port();
  remote_port_ = target.port();
  if (!step.within) return;
  timer_.expires_after(*step.within);
  timer_.async_wait(while_alive(alive_, [this, &step](const error_code& result) {
    if (stopped_ || result || !pending_) return;
    give_up_connect(step);
  }));
}

void Agent::give_up_connect(const Step& step) {
  // close() in SYN_SENT sends nothing: the attempt's SYN may still be on the wire.
  abandoned_ = connect_attempt_;
  pending_ = false;
  error_code ignored;
  socket_.close(ignored);
  // The attempt was meant to be abandoned: the steps go on (not a failure).
  report(step, StepResult::error, ETIMEDOUT,
         fmt::format("gave up after {} ms (ETIMEDOUT)", step.within->count()), 0);
  ++next_;
  run_next();
}

void Agent::begin_accept() {
  pending_ = true;
  listener_->acceptor.async_accept(socket_, while_alive(alive_, [this](const error_code& result) {
                           if (stopped_) return;
                           // Listening ends with the last accept step: later SYNs are refused, not queued.
                           if (!accepts_later()) done_listening();
                           if (!result) begin_connection();
                           complete(result);
                         }));
}

void Agent::send_more(std::uint64_t want, std::function<void()> then) {
  if (step_sent_ == want) return then();
  const std::size_t length = static_cast<std::size_t>(std::min<std::uint64_t>(want - step_sent_, config_.io_chunk));
  // Only as large as the writes need: N copies of an agent each hold one.
  if (write_buffer_.size() < length) write_buffer_.resize(length);
  // The connection's own pattern from here on: its number and stream offset name every byte.
  fill_pattern(config_.side, pattern_connection_, stream_sent_,
               std::span(write_buffer_.data(), length));
  pending_ = true;
  socket_.async_write_some(asio::buffer(write_buffer_.data(), length),
                           while_alive(alive_, [this, want, then = std::move(then)](const error_code& result, std::size_t n) mutable {
                             if (stopped_) return;
                             step_sent_ += n;
                             stream_sent_ += n;
                             bytes_sent_ += n;
                             if (result) return complete(result);
                             send_more(want, std::move(then));
                           }));
}

void Agent::recv_more(std::optional<std::uint64_t> want, std::function<void()> then) {
  if (want && step_received_ == *want) return then();
  // Never read past `want`: the bytes after it belong to the next step.
  if (read_buffer_.empty()) read_buffer_.resize(config_.io_chunk);
  std::size_t length = read_buffer_.size();
  if (want) length = static_cast<std::size_t>(std::min<std::uint64_t>(*want - step_received_, length));
  pending_ = true;
  socket_.async_read_some(asio::buffer(read_buffer_.data(), length),
                          while_alive(alive_, [this, want, then = std::move(then)](const error_code& result, std::size_t n) mutable {
                            if (stopped_) return;
                            step_received_ += n;
                            bytes_received_ += n;
                            verifier_.feed(std::span<const std::uint8_t>(read_buffer_.data(), n));
                            if (result) return complete(result);
                            recv_more(want, std::move(then));
                          }));
}

void Agent::exchange_round(const Step& step) {
  if (step_sent_ == step.bytes && step_received_ == step.bytes) return complete(error_code{});
  // exchange sends a chunk first, answer reads one first; each then waits for the other way.
  const bool send_turn = step.kind == StepKind::exchange ? step_sent_ == step_received_ : step_sent_ < step_received_;
  auto next = [this, &step] { exchange_round(step); };
  if (send_turn) return send_more(step_sent_ + step.chunk, next);
  recv_more(step_received_ + step.chunk, next);
}

std::uint64_t Agent::moved(const Step& step) const {
  const bool reads = step.kind == StepKind::recv || step.kind == StepKind::recv_until_eof;
  return reads ? step_received_ : step_sent_;
}

void Agent::begin_sleep(Millis duration) {
  pending_ = true;
  timer_.expires_after(duration);
  timer_.async_wait(while_alive(alive_, [this](const error_code& result) {
    if (stopped_) return;
    complete(result);
  }));
}

void Agent::close_now(bool abort) {
  error_code ec;
  if (!accepts_later()) done_listening();  // a server that never accepted stops listening too
  // SO_LINGER {on, 0}: close() then discards the send queue and sends RST instead of FIN.
  if (abort) socket_.set_option(asio::socket_base::linger(true, 0), ec);
  // Always an explicit close(): Asio's destructor would reset a user-set linger first.
  if (!ec) socket_.close(ec);
  complete(ec);
}

void Agent::begin_connection() {
  // A new connection's bytes carry its own number, from offset 0, in both directions.
  ++connections_;
  stream_sent_ = 0;
  remember_ports();
  const std::uint16_t client_port = config_.side == Side::client ? local_port_.value_or(0) : remote_port_.value_or(0);
  pattern_connection_ = config_.pattern_by_port ? client_port : (connections_ - 1) % pattern_connections;
  verifier_ = PatternVerifier(peer_of(config_.side), pattern_connection_);
  corruption_reported_ = false;
}

void Agent::done_listening() {
  if (listening_done_ || !listened_) return;
  listening_done_ = true;
  error_code ignored;
  if (--listener_->users == 0) listener_->acceptor.close(ignored);
}

bool Agent::accepts_later() const {
  return std::any_of(config_.steps.begin() + static_cast<std::ptrdiff_t>(next_) + 1, config_.steps.end(),
                     [](const Step& s) { return s.kind == StepKind::accept; });
}

void Agent::remember_ports() {
  error_code ec;
  if (auto local = socket_.local_endpoint(ec); !ec) local_port_ = local.port();
  if (auto remote = socket_.remote_endpoint(ec); !ec) remote_port_ = remote.port();
}

void Agent::in_namespace(const std::function<void()>& fn) { config_.in_namespace(fn); }

Instant Agent::now() const { return config_.now(); }

}  // namespace lastack
