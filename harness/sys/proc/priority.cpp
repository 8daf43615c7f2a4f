#include "harness/sys/proc/priority.hpp"

#include <sys/resource.h>

#include <cerrno>

namespace lastack::sys {

namespace {

constexpr int kRaisedBy = 10;
bool raised = false;
int before = 0;

int current_nice() {
  errno = 0;
  const int n = ::getpriority(PRIO_PROCESS, 0);  // -1 is a valid value: errno tells
  return errno == 0 ? n : 0;
}

}  // namespace

void raise_harness_priority() {
  if (raised) return;
  const int now = current_nice();
  // Without CAP_SYS_NICE (a user namespace) this fails, and the run goes on at the caller's priority.
  if (::setpriority(PRIO_PROCESS, 0, now - kRaisedBy) == 0) {
    raised = true;
    before = now;
  }
}

int caller_nice() { return raised ? before : current_nice(); }

}  // namespace lastack::sys
