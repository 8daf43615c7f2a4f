#pragma once
// The in-process lab API: your own client and server code (plain POSIX sockets, your own Asio)
// runs on threads of this process, each inside one lab namespace, under a policy's faults; you
// get the same trace and verdicts as `lastack run`.
//
//   auto result = lastack::run_policy(policy, {}, lastack::InProcess{
//       .server = [](const lastack::LabSide& s) { /* listen on s.server_endpoint(), s.io().run() */ },
//       .client = [](const lastack::LabSide& s) { /* connect to s.server_endpoint(), talk, return */ }});
//
// The rules (README: "In-process: your own sockets in the lab"):
// - Each function runs on a thread of its own that has entered its side's network namespace
//   (setns is per thread): every socket it creates, and every thread it starts, is in the lab.
// - The server function runs first; the client's starts once a socket listens on
//   server_port() in the server namespace (lastack watches with sock_diag, for up to 5 s).
// - The run ends when the client function returns, plus the policy's settle time (or at its
//   timeout). Then lastack asks both sides to stop: stopping() turns true, stop_fd() readable,
//   io() is stopped. Your functions must return then (the server's usually is blocked in
//   io().run(), which returns). One that has not returned 1 s later gets every TCP socket of
//   this process in its namespace shut down (SHUT_RDWR: a blocked accept/recv/send returns);
//   one that still has not returned 5 s after that cannot be ended safely, and lastack aborts
//   the process with a message saying so. No thread outlives run_policy.
// - An exception thrown by your function is caught, recorded in the trace (an AppEvent whose
//   outcome is its what()) and fails the run's "function" checks; it is not rethrown.
// - Everything you create from io() must be gone when your function returns.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "lastack/roles.hpp"
#include "lastack/run.hpp"
#include "lastack/asio.hpp"

namespace lastack {

namespace sys {
class StopSignal;
}

/// One side of an in-process run, as your function sees it; valid while the function runs.
class LabSide {
 public:
  /// client or server.
  Side side() const { return side_; }
  /// Where the server listens: the lab's server address and the policy's port. The server binds
  /// it (or the wildcard on that port); the client connects to it.
  const asio::ip::tcp::endpoint& server_endpoint() const { return server_; }
  /// The server's address as text: "198.18.2.2", or "fd00:2::2" with RunOptions::ipv6.
  std::string server_address() const { return server_.address().to_string(); }
  /// The policy's [scenario] port: the only port lastack observes sockets on.
  std::uint16_t server_port() const { return server_.port(); }
  /// The client namespace's address: "198.18.1.2" or "fd00:1::2".
  const std::string& client_address() const { return client_address_; }
  /// An io_context for your asynchronous code, run by you (io().run()) on your function's
  /// thread; lastack stops it when the run ends, so run() returns then.
  asio::io_context& io() const { return io_; }
  /// True once the run has asked this side to stop.
  bool stopping() const;
  /// A descriptor that turns readable (POLLIN) when the run asks this side to stop: poll it
  /// beside your own sockets. Never read or close it.
  int stop_fd() const;
  /// Block until the run asks this side to stop, or `timeout`; true when it asked. A server
  /// that leaves its work to other threads, or only holds sockets open, waits here.
  bool wait_for_stop(std::chrono::milliseconds timeout) const;

  /// Made by the run for each side (not by you).
  LabSide(Side side, asio::ip::tcp::endpoint server, std::string client_address, asio::io_context& io,
          const sys::StopSignal& stop)
      : side_(side), server_(std::move(server)), client_address_(std::move(client_address)), io_(io), stop_(stop) {}

 private:
  Side side_;
  asio::ip::tcp::endpoint server_;
  std::string client_address_;
  asio::io_context& io_;
  const sys::StopSignal& stop_;
};

/// Your own code as the lab's two endpoints (both required).
struct InProcess {
  std::function<void(const LabSide&)> server;  // first, in the server namespace: listen, serve, return when stopped
  std::function<void(const LabSide&)> client;  // once the server listens, in the client namespace
};

/// Run `policy` once in a fresh lab with `code` as its endpoints instead of the scenario's agents
/// (the scenario's steps are not run; its port, settle and timeout hold, and the run finishes
/// with the client). The results are the oracle's, then "client function returned" (fails when
/// it threw or the run had to stop it) and "server function ended without an exception"; `app`
/// expectations are not checked (lastack cannot see your code's reads and writes). Throws
/// InputError when a function is missing, HarnessError when the server never listens.
RunResult run_policy(const Policy& policy, const RunOptions& options, const InProcess& code);

}  // namespace lastack
