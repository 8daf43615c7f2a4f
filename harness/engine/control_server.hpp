#pragma once
// `--control`: the run's end of the control socket, on the run's io_context. Each line a test
// sends is read by core's control_request, applied to the interceptor (a fault on or off, the
// link), answered in one line, and recorded as a LabEvent at the moment it took effect.
#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "harness/core/decide/control_book.hpp"
#include "harness/core/decide/control_request.hpp"
#include "harness/engine/interceptor.hpp"
#include "harness/engine/run_clock.hpp"
#include "lastack/asio.hpp"
#include "lastack/policy.hpp"
#include "lastack/trace.hpp"

namespace lastack {

class ControlServer {
 public:
  /// Serve `listen_fd` (a listening AF_UNIX socket; it is duplicated, the caller keeps its own)
  /// for a run of `policy` whose wire `interceptor` carries. `loopback`: under `lastack wrap`,
  /// where faults that send copies are refused as in a policy.
  ControlServer(asio::io_context& io, const RunClock& clock, int listen_fd, Interceptor& interceptor,
                const Policy& policy, bool loopback);

  /// Start accepting connections.
  void start();
  /// The run is over: stop accepting, and answer what still comes with a refusal.
  void stop();

  /// The changes applied (and marks), in order, for the trace.
  const std::vector<LabEvent>& events() const { return events_; }

  /// One request line's reply line (with its newline); the change applied, if any. Public for
  /// the sessions; a refusal is a reply with ok false, never an exception.
  std::string answer(const std::string& line);

 private:
  struct Session;
  void accept();
  std::string apply(const ControlRequest& r);
  std::string status() const;
  // A LabEvent of `kind` at `at`, recorded; `what` after "control: ".
  void record(Instant at, LabEventKind kind, std::string what, std::optional<std::size_t> fault, const ControlRequest& r);

  asio::io_context& io_;
  const RunClock& clock_;
  asio::local::stream_protocol::acceptor acceptor_;
  Interceptor& interceptor_;
  const Policy& policy_;
  bool loopback_ = false;
  bool stopped_ = false;
  ControlBook book_;
  std::vector<LabEvent> events_;
  std::list<std::weak_ptr<Session>> sessions_;
};

}  // namespace lastack
