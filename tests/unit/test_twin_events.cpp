#include <catch2/catch.hpp>

#include "harness/core/trace/twin_events.hpp"

using lastack::TcpState;
using lastack::TwinPairing;

TEST_CASE("twin state changes: both copies of a change keep one, nothing unpaired") {
  TwinPairing t;
  CHECK_FALSE(t.is_twin(1, TcpState::CLOSE, TcpState::SYN_SENT, 0));
  CHECK(t.is_twin(1, TcpState::CLOSE, TcpState::SYN_SENT, 1));
  CHECK_FALSE(t.is_twin(1, TcpState::SYN_SENT, TcpState::ESTABLISHED, 0));
  CHECK(t.is_twin(1, TcpState::SYN_SENT, TcpState::ESTABLISHED, 1));
  CHECK(t.unpaired() == 0);
}

TEST_CASE("twin state changes: a change one copy missed is kept and counted as unpaired") {
  TwinPairing t;
  // Program 0 was skipped for this change (nested on its CPU): only copy 1 reports it.
  CHECK_FALSE(t.is_twin(7, TcpState::FIN_WAIT1, TcpState::CLOSE, 1));
  // Another socket's changes do not pair with it.
  CHECK_FALSE(t.is_twin(8, TcpState::FIN_WAIT1, TcpState::CLOSE, 0));
  CHECK(t.unpaired() == 2);
  CHECK(t.is_twin(8, TcpState::FIN_WAIT1, TcpState::CLOSE, 1));
  CHECK(t.unpaired() == 1);
}

TEST_CASE("twin state changes: the same copy twice, or a different change, is never a twin") {
  TwinPairing t;
  CHECK_FALSE(t.is_twin(3, TcpState::ESTABLISHED, TcpState::FIN_WAIT1, 0));
  CHECK_FALSE(t.is_twin(3, TcpState::ESTABLISHED, TcpState::FIN_WAIT1, 0));  // a second real change
  CHECK(t.unpaired() == 2);
  CHECK_FALSE(t.is_twin(3, TcpState::FIN_WAIT1, TcpState::FIN_WAIT2, 1));  // differs: not the pair
  CHECK(t.unpaired() == 3);
}
