// The faults control added to a run, and which of them a `fault remove` may name.
#include "harness/core/decide/control_book.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "lastack/error.hpp"

namespace lastack {

void ControlBook::added(std::size_t index, Instant at) { faults_.push_back({index, at, std::nullopt}); }

std::size_t ControlBook::removable(std::size_t id) const {
  const std::size_t index = id - 1;
  if (id == 0 || index >= policy_faults_ + faults_.size())
    throw InputError(fmt::format("fault remove: there is no fault {} (the run has {})", id, policy_faults_ + faults_.size()));
  if (index < policy_faults_)
    throw InputError(fmt::format("fault remove: fault {} is the policy's own; only a fault added by control can be removed", id));
  const ControlledFault& f = faults_[index - policy_faults_];
  if (f.removed)
    throw InputError(fmt::format("fault remove: fault {} was removed already, at {:.3f} s", id,
                                 std::chrono::duration<double>(f.removed->time_since_epoch()).count()));
  return index;
}

void ControlBook::removed(std::size_t index, Instant at) {
  for (ControlledFault& f : faults_)
    if (f.index == index) f.removed = at;
}

std::size_t ControlBook::active() const {
  return static_cast<std::size_t>(std::count_if(faults_.begin(), faults_.end(), [](const ControlledFault& f) { return !f.removed; }));
}

}  // namespace lastack
