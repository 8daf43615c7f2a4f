#pragma once
// A small echo server, the kind of app lastack finds a real bug in: every byte a client sends
// comes back. It keeps a table of its sessions (for a connection count), and that table is where
// the bug hides: built with ECHO_SERVER_CLOSES_ON_EOF=0, a session that reads EOF (the client's
// FIN after it half-closed) just stops reading. Its socket stays open in the table, so the kernel
// holds it in CLOSE_WAIT for as long as the server runs. Built with 1, the session closes.
#include <utility>  // before Asio: Boost 1.74's asio/awaitable.hpp needs std::exchange

#include <boost/asio.hpp>

#include <array>
#include <cstddef>
#include <memory>
#include <vector>

#ifndef ECHO_SERVER_CLOSES_ON_EOF
#define ECHO_SERVER_CLOSES_ON_EOF 1
#endif

namespace echo {

/// Accepts on `at` and echoes every connection, on `io` (single-threaded).
class EchoServer {
 public:
  EchoServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& at);
  /// How many connections it has accepted.
  std::size_t accepted() const { return sessions_.size(); }

 private:
  class Session;
  void accept();

  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<Session>> sessions_;  // every connection, open or not
};

}  // namespace echo
