#pragma once
// How agents spell an Asio result in an AppEvent (errno names: harness/core/base/errno_name.hpp).
#include <string>

#include "harness/core/base/errno_name.hpp"
#include "lastack/trace.hpp"
#include "lastack/asio.hpp"

namespace lastack {

/// A step outcome for an Asio result: "ok" for success, "eof" at end of stream, the errno name
/// for a system error, and the error's message for anything else.
std::string outcome_name(const boost::system::error_code& ec);

/// The typed result of an Asio result: ok, eof, or error (with the errno in `err`; 0 when the
/// error is not a system one).
StepResult step_result(const boost::system::error_code& ec, int& err);

}  // namespace lastack
