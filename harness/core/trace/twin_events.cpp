#include "harness/core/trace/twin_events.hpp"

namespace lastack {

bool TwinPairing::is_twin(std::uint64_t socket, TcpState from, TcpState to, std::uint8_t copy) {
  auto [it, fresh] = last_.try_emplace(socket, Last{from, to, copy, false});
  if (fresh) return false;
  Last& last = it->second;
  if (!last.paired && last.copy != copy && last.from == from && last.to == to) {
    last.paired = true;
    return true;
  }
  if (!last.paired) ++unpaired_;
  last = {from, to, copy, false};
  return false;
}

std::uint64_t TwinPairing::unpaired() const {
  std::uint64_t n = unpaired_;
  for (const auto& [socket, last] : last_) n += last.paired ? 0 : 1;
  return n;
}

}  // namespace lastack
