#pragma once
// How agents spell an error in an AppEvent: the errno's symbolic name, as a policy writes it.
#include <string>

#include "harness/sys/asio.hpp"

namespace lastack {

/// The symbolic name of an errno value: "ECONNRESET"; "errno 4242" for a value glibc does not name.
std::string errno_name(int err);

/// A step outcome for an Asio result: "ok" for success, "eof" at end of stream, the errno name
/// for a system error, and the error's message for anything else.
std::string outcome_name(const boost::system::error_code& ec);

}  // namespace lastack
