// TCP state names and the legality of (sampled) state changes.
#include <catch2/catch.hpp>

#include "lastack/tcp_state.hpp"

using namespace lastack;
using S = TcpState;

TEST_CASE("state names use the RFC spelling", "[tcp_state]") {
  CHECK(state_name(S::FIN_WAIT1) == "FIN_WAIT_1");
  CHECK(state_name(S::FIN_WAIT2) == "FIN_WAIT_2");
  CHECK(state_name(S::TIME_WAIT) == "TIME_WAIT");
  CHECK(state_name(S::CLOSE_WAIT) == "CLOSE_WAIT");
  CHECK(state_name(S::LAST_ACK) == "LAST_ACK");
  CHECK(state_name(S::CLOSING) == "CLOSING");
  CHECK(state_name(S::SYN_SENT) == "SYN_SENT");
  CHECK(state_name(S::SYN_RECV) == "SYN_RECV");
  CHECK(state_name(S::ESTABLISHED) == "ESTABLISHED");
  CHECK(state_name(S::LISTEN) == "LISTEN");
  CHECK(state_name(S::CLOSE) == "CLOSED");
  CHECK(state_name(S::NEW_SYN_RECV) == "NEW_SYN_RECV");
  CHECK(state_name(static_cast<S>(13)) == "UNKNOWN");
}

TEST_CASE("state names parse in any case, with '_' or '-', and with or without the digit separator",
          "[tcp_state]") {
  CHECK(state_from_name("FIN_WAIT_1") == S::FIN_WAIT1);
  CHECK(state_from_name("FIN_WAIT1") == S::FIN_WAIT1);
  CHECK(state_from_name("fin-wait-2") == S::FIN_WAIT2);
  CHECK(state_from_name("time_wait") == S::TIME_WAIT);
  CHECK(state_from_name("Time-Wait") == S::TIME_WAIT);
  CHECK(state_from_name("CLOSED") == S::CLOSE);
  CHECK(state_from_name("close") == S::CLOSE);
  CHECK(state_from_name("syn-received") == S::SYN_RECV);
  CHECK(state_from_name("new_syn_recv") == S::NEW_SYN_RECV);
  CHECK_FALSE(state_from_name("FIN_WAIT_3"));
  CHECK_FALSE(state_from_name(""));
  CHECK_FALSE(state_from_name("ESTABLISHED!"));
}

TEST_CASE("every state name round-trips through state_from_name", "[tcp_state]") {
  for (int raw = 1; raw <= 12; ++raw) {
    const auto s = static_cast<S>(raw);
    CHECK(state_from_name(state_name(s)) == s);
  }
}

TEST_CASE("the active closer's path is legal step by step and when sampled", "[tcp_state]") {
  CHECK(legal_transition(S::CLOSE, S::SYN_SENT));
  CHECK(legal_transition(S::SYN_SENT, S::ESTABLISHED));
  CHECK(legal_transition(S::ESTABLISHED, S::FIN_WAIT1));
  CHECK(legal_transition(S::FIN_WAIT1, S::FIN_WAIT2));
  CHECK(legal_transition(S::FIN_WAIT2, S::TIME_WAIT));
  CHECK(legal_transition(S::TIME_WAIT, S::CLOSE));
  CHECK(legal_transition(S::FIN_WAIT1, S::TIME_WAIT));  // FIN_WAIT_2 missed between samples
  CHECK(legal_transition(S::SYN_SENT, S::TIME_WAIT));
  CHECK(legal_transition(S::CLOSE, S::ESTABLISHED));  // CLOSE is also "not connected yet"
}

TEST_CASE("the passive side's path, including Linux's request socket, is legal", "[tcp_state]") {
  CHECK(legal_transition(S::CLOSE, S::LISTEN));
  CHECK(legal_transition(S::LISTEN, S::SYN_RECV));
  CHECK(legal_transition(S::LISTEN, S::NEW_SYN_RECV));
  CHECK(legal_transition(S::NEW_SYN_RECV, S::ESTABLISHED));
  CHECK(legal_transition(S::SYN_RECV, S::ESTABLISHED));
  CHECK(legal_transition(S::ESTABLISHED, S::CLOSE_WAIT));
  CHECK(legal_transition(S::CLOSE_WAIT, S::LAST_ACK));
  CHECK(legal_transition(S::LAST_ACK, S::CLOSE));
  CHECK(legal_transition(S::ESTABLISHED, S::LAST_ACK));
}

TEST_CASE("simultaneous open and simultaneous close are legal", "[tcp_state]") {
  CHECK(legal_transition(S::SYN_SENT, S::SYN_RECV));
  CHECK(legal_transition(S::FIN_WAIT1, S::CLOSING));
  CHECK(legal_transition(S::CLOSING, S::TIME_WAIT));
  CHECK(legal_transition(S::SYN_RECV, S::FIN_WAIT1));
}

TEST_CASE("every state may end in CLOSE (RST, abort, timeout), and no change is legal", "[tcp_state]") {
  for (int raw = 1; raw <= 12; ++raw) {
    const auto s = static_cast<S>(raw);
    CHECK(legal_transition(s, S::CLOSE));
    CHECK(legal_transition(s, s));
  }
}

TEST_CASE("the diagram's impossible changes are illegal", "[tcp_state]") {
  CHECK_FALSE(legal_transition(S::TIME_WAIT, S::ESTABLISHED));  // not even through CLOSE
  CHECK_FALSE(legal_transition(S::TIME_WAIT, S::SYN_SENT));
  CHECK_FALSE(legal_transition(S::TIME_WAIT, S::FIN_WAIT2));
  CHECK_FALSE(legal_transition(S::CLOSE_WAIT, S::FIN_WAIT1));
  CHECK_FALSE(legal_transition(S::CLOSE_WAIT, S::TIME_WAIT));  // the passive closer never waits
  CHECK_FALSE(legal_transition(S::LAST_ACK, S::TIME_WAIT));
  CHECK_FALSE(legal_transition(S::FIN_WAIT2, S::CLOSING));
  CHECK_FALSE(legal_transition(S::FIN_WAIT1, S::CLOSE_WAIT));
  CHECK_FALSE(legal_transition(S::ESTABLISHED, S::SYN_SENT));
  CHECK_FALSE(legal_transition(S::ESTABLISHED, S::LISTEN));
  CHECK_FALSE(legal_transition(S::LAST_ACK, S::ESTABLISHED));
}
