// The in-process lab API as an application's own test suite uses it: the test's own Asio server
// and client, each on a thread inside its lab namespace, under a shipped policy's fault. Built as
// `example_in_process` and run by CTest in the lab tier; README.md quotes the part between the
// README markers verbatim (tests/unit/test_readme_examples.cpp keeps the two the same).
// main() is examples/lab_main.cpp's: it enters lab privileges, then runs these tests.
#include <catch2/catch.hpp>

#include <string>

#include "lastack/lastack.hpp"

// README: in-process example begins
using tcp = boost::asio::ip::tcp;

TEST_CASE("my server and client survive a lost final ACK") {
  const auto policy = lastack::load_policy("drop-final-ack", lastack::policy_dir(LASTACK_POLICY_DIR));
  std::string reply;
  const auto result = lastack::run_policy(policy, {}, lastack::InProcess{
      .server = [](const lastack::LabSide& s) {  // its own thread, in the server namespace
        tcp::acceptor acceptor(s.io(), s.server_endpoint());
        tcp::socket peer(s.io());
        std::string request;
        acceptor.async_accept(peer, [&](boost::system::error_code ec) {
          if (ec) return;
          boost::asio::async_read(peer, boost::asio::dynamic_buffer(request),
                                  [&](boost::system::error_code, std::size_t) {  // to the client's FIN
                                    boost::asio::write(peer, boost::asio::buffer(std::string("bye")));
                                    peer.close();  // our FIN; its final ACK is the one the policy drops
                                  });
        });
        s.io().run();  // returns when the work is done, or when lastack stops it
      },
      .client = [&reply](const lastack::LabSide& s) {  // starts once the server listens
        boost::asio::io_context io;
        tcp::socket socket(io);
        socket.connect(s.server_endpoint());
        boost::asio::write(socket, boost::asio::buffer(std::string(1000, 'x')));
        socket.shutdown(tcp::socket::shutdown_send);  // the client closes first
        boost::system::error_code eof;
        boost::asio::read(socket, boost::asio::dynamic_buffer(reply), eof);  // to the server's FIN
      }});  // the run ends when the client returns (plus the policy's settle)
  INFO(lastack::render_ladder(result.trace) << lastack::render_verdicts(result.results));
  CHECK(reply == "bye");
  REQUIRE(result.passed());  // the final ACK was dropped, the server's FIN resent after its RTO
}
// README: in-process example ends
