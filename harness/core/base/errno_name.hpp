#pragma once
// An errno value's symbolic name, as a policy's `sees` writes it ("ECONNRESET").
#include <string>

namespace lastack {

/// The symbolic name of an errno value: "ECONNRESET"; "errno 4242" for a value glibc does not name.
std::string errno_name(int err);

}  // namespace lastack
