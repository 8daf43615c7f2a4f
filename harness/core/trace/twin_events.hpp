#pragma once
// Pairing the state changes two identical BPF programs report, so each change is kept once and
// the ones only one copy saw (the other was skipped by the kernel) are counted.
#include <cstdint>
#include <map>

#include "lastack/tcp_state.hpp"

namespace lastack {

/// Pure: fed each state-change record in ring-buffer order, says which are the twin's copy.
class TwinPairing {
 public:
  /// True when this record (socket, from -> to, written by program `copy`) is the other
  /// program's copy of the change just before it on that socket: drop it. A socket's changes
  /// are serialized by its lock and the twins run back to back, so no other change comes between.
  bool is_twin(std::uint64_t socket, TcpState from, TcpState to, std::uint8_t copy);
  /// State changes only one program saw so far (each is one skip the other program counted).
  std::uint64_t unpaired() const;

 private:
  struct Last {
    TcpState from, to;
    std::uint8_t copy;
    bool paired;
  };
  std::map<std::uint64_t, Last> last_;
  std::uint64_t unpaired_ = 0;  // changes left unpaired by a later change on the same socket
};

}  // namespace lastack
