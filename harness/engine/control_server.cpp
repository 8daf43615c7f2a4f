// The control socket's server: read a line, apply it through the interceptor, answer, record.
#include "harness/engine/control_server.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "harness/core/report/policy_text.hpp"
#include "lastack/error.hpp"

namespace lastack {

namespace {
std::string seconds_at(Instant t) { return fmt::format("{:.3f} s", std::chrono::duration<double>(t.time_since_epoch()).count()); }

std::string link_text(const std::optional<Link>& link) {
  if (!link) return "a plain wire";
  const std::string to_server = describe_link(link->from[Side::client]), to_client = describe_link(link->from[Side::server]);
  if (to_server == to_client) return to_server + ", each way";
  return fmt::format("client to server {}; server to client {}", to_server, to_client);
}
}  // namespace

// One connection: lines in, one reply each, in order.
struct ControlServer::Session : std::enable_shared_from_this<Session> {
  Session(ControlServer& server, asio::local::stream_protocol::socket socket)
      : server(server), socket(std::move(socket)), buffer(control_line_limit + 1) {}
  void read() {
    asio::async_read_until(socket, buffer, '\n', [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      if (ec == asio::error::not_found) {  // longer than any request: say so, then hang up
        self->reply(control_reply(false, fmt::format("a request longer than {} bytes", control_line_limit)), false);
        return;
      }
      if (ec) return;  // the test hung up, or the run ended
      std::string line(asio::buffers_begin(self->buffer.data()), asio::buffers_begin(self->buffer.data()) + n - 1);
      self->buffer.consume(n);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      self->reply(self->server.answer(line), true);
    });
  }
  void reply(std::string text, bool more) {
    auto out = std::make_shared<std::string>(std::move(text));
    asio::async_write(socket, asio::buffer(*out), [self = shared_from_this(), out, more](boost::system::error_code ec, std::size_t) {
      if (!ec && more) self->read();
    });
  }
  ControlServer& server;
  asio::local::stream_protocol::socket socket;
  asio::streambuf buffer;
};

ControlServer::ControlServer(asio::io_context& io, const RunClock& clock, int listen_fd, Interceptor& interceptor,
                             const Policy& policy, bool loopback)
    : io_(io),
      clock_(clock),
      acceptor_(io, asio::local::stream_protocol(), ::dup(listen_fd)),
      interceptor_(interceptor),
      policy_(policy),
      loopback_(loopback),
      book_(policy.faults.size()) {}

void ControlServer::start() { accept(); }

void ControlServer::stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (const auto& weak : sessions_)
    if (auto s = weak.lock()) s->socket.close(ignored);
  sessions_.clear();
}

void ControlServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, asio::local::stream_protocol::socket socket) {
    if (ec || stopped_) return;
    auto session = std::make_shared<Session>(*this, std::move(socket));
    sessions_.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
    sessions_.push_back(session);
    session->read();
    accept();
  });
}

std::string ControlServer::answer(const std::string& line) {
  if (stopped_) return control_reply(false, "the run has ended: nothing changes now");
  try {
    return apply(parse_control_request(line, policy_.scenario.timeout));
  } catch (const InputError& e) {
    return control_reply(false, e.what());
  }
}

void ControlServer::record(Instant at, LabEventKind kind, std::string what, std::optional<std::size_t> fault,
                           const ControlRequest& r) {
  LabEvent ev;
  ev.at = at;
  ev.kind = kind;
  ev.what = "control: " + std::move(what);
  ev.fault = fault;
  ev.request = nlohmann::json(r.given).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  events_.push_back(std::move(ev));
}

std::string ControlServer::apply(const ControlRequest& r) {
  const Instant now = clock_.now();  // the change and its event: one instant
  if (const auto* add = std::get_if<FaultAddRequest>(&r.what)) {
    // As for a policy under wrap (resolve_wrap_policy): copies on loopback are not yet shown.
    if (loopback_ && add->rule.action == ActionKind::duplicate)
      throw InputError("fault add: duplicate is not supported under wrap (copies on loopback are not yet shown to "
                       "cross as on a wire)");
    const std::size_t index = interceptor_.add_fault(add->rule, now);
    book_.added(index, now);
    const std::string what = fmt::format("fault {} added: {}", index + 1, describe_fault(add->rule));
    record(now, LabEventKind::fault_added, what, index, r);
    return control_reply(true, what, {{"id", index + 1}});
  }
  if (const auto* remove = std::get_if<FaultRemoveRequest>(&r.what)) {
    const std::size_t index = book_.removable(remove->id);
    interceptor_.remove_fault(index, now);
    book_.removed(index, now);
    const std::size_t acted = interceptor_.acted_on(index);
    const std::string what = fmt::format("fault {} removed (it acted on {} segment{})", index + 1, acted, acted == 1 ? "" : "s");
    record(now, LabEventKind::fault_removed, what, index, r);
    return control_reply(true, what, {{"id", index + 1}, {"acted_on", acted}});
  }
  if (const auto* set = std::get_if<LinkSetRequest>(&r.what)) {
    if (loopback_ && (set->link.from[Side::client].duplicate > 0 || set->link.from[Side::server].duplicate > 0))
      throw InputError("link set: the link's duplicate is not supported under wrap, as a duplicate fault is not");
    interceptor_.set_link(set->link);
    const std::string what = "link set: " + link_text(interceptor_.link());
    record(now, LabEventKind::link_set, what, std::nullopt, r);
    return control_reply(true, what);
  }
  if (const auto* mark = std::get_if<MarkRequest>(&r.what)) {
    record(now, LabEventKind::mark, "mark: " + mark->text, std::nullopt, r);
    return control_reply(true, fmt::format("marked at {}", seconds_at(now)));
  }
  return status();
}

std::string ControlServer::status() const {
  const Instant now = clock_.now();
  nlohmann::json faults = nlohmann::json::array();
  std::string on;
  const std::vector<FaultRule>& rules = interceptor_.faults();
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const bool controlled = i >= policy_.faults.size();
    bool active = true;
    for (const ControlledFault& f : book_.faults())
      if (f.index == i) active = !f.removed;
    if (active) on += fmt::format("{}fault {}: {}", on.empty() ? "" : "; ", i + 1, describe_fault(rules[i]));
    faults.push_back({{"id", i + 1}, {"fault", describe_fault(rules[i])}, {"by", controlled ? "control" : "policy"},
                      {"on", active}, {"acted_on", interceptor_.acted_on(i)}});
  }
  const std::string link = link_text(interceptor_.link());
  const double elapsed = std::chrono::duration<double>(now.time_since_epoch()).count();
  return control_reply(true, fmt::format("{:.3f} s into the run; faults on: {}; link: {}", elapsed, on.empty() ? "none" : on, link),
                       {{"elapsed_s", elapsed}, {"faults", faults}, {"link", link}});
}

}  // namespace lastack
