#pragma once
// What control requests changed so far in one run: the faults they added (each with when it was
// added and removed) and which fault numbers a `fault remove` may name. Pure: times come in.
#include <cstddef>
#include <optional>
#include <vector>

#include "lastack/clock.hpp"

namespace lastack {

/// A fault added by control: its index among the run's faults (the policy's come first).
struct ControlledFault {
  std::size_t index = 0;
  Instant added{};
  std::optional<Instant> removed;  // unset: still on
};

/// The faults control added to a run whose policy has `policy_faults` of its own.
class ControlBook {
 public:
  explicit ControlBook(std::size_t policy_faults) : policy_faults_(policy_faults) {}

  /// Record that the fault at `index` was added at `at`.
  void added(std::size_t index, Instant at);

  /// The index of fault number `id` (1-based, as `fault add` answered), which a `fault remove`
  /// may switch off. Throws InputError (one line) when there is no such fault, when it is the
  /// policy's own, or when it was removed already.
  std::size_t removable(std::size_t id) const;

  /// Record that the fault at `index` was removed at `at`.
  void removed(std::size_t index, Instant at);

  /// Every fault control added, in order.
  const std::vector<ControlledFault>& faults() const { return faults_; }

  /// How many of them are still on.
  std::size_t active() const;

 private:
  std::size_t policy_faults_ = 0;
  std::vector<ControlledFault> faults_;
};

}  // namespace lastack
