#include "examples/leaky_server/echo_server.hpp"

namespace echo {

namespace asio = boost::asio;
using asio::ip::tcp;

class EchoServer::Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : socket_(std::move(socket)) {}

  void read() {
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](boost::system::error_code ec,
                                                                               std::size_t n) {
      if (!ec) return self->echo(n);
      if (ec == asio::error::eof) {
#if ECHO_SERVER_CLOSES_ON_EOF
        // The client has sent everything: close our half too, so it reads EOF and both sockets go.
        boost::system::error_code ignored;
        self->socket_.close(ignored);
#endif
        // Leaky build: nothing more to read, so stop here. The session stays in the server's
        // table, its socket open: the kernel keeps it in CLOSE_WAIT.
        return;
      }
      boost::system::error_code ignored;
      self->socket_.close(ignored);  // a reset or any other error: drop the connection
    });
  }

 private:
  void echo(std::size_t n) {
    asio::async_write(socket_, asio::buffer(buffer_, n),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (!ec) self->read();
                      });
  }

  tcp::socket socket_;
  std::array<char, 4096> buffer_{};
};

EchoServer::EchoServer(asio::io_context& io, const tcp::endpoint& at) : acceptor_(io, at) { accept(); }

void EchoServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) return;  // the acceptor was closed
    sessions_.push_back(std::make_shared<Session>(std::move(socket)));
    sessions_.back()->read();
    accept();
  });
}

}  // namespace echo
