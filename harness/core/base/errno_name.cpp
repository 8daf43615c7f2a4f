#include "harness/core/base/errno_name.hpp"

#include <string.h>

namespace lastack {

std::string errno_name(int err) {
  // glibc 2.32+: the macro name itself, so reports match what a policy's `sees` says.
  if (const char* name = ::strerrorname_np(err)) return name;
  return "errno " + std::to_string(err);
}

}  // namespace lastack
