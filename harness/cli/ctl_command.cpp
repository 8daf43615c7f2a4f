// `lastack ctl`: words into one request line, sent to the run's control socket, the reply printed.
#include "harness/cli/ctl_command.hpp"

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/core/decide/control_request.hpp"
#include "harness/sys/net/control_socket.hpp"
#include "lastack/error.hpp"

namespace lastack {

namespace {
// A run answers at once; a reply this late means the run is stuck or gone.
constexpr std::chrono::seconds kReplyTimeout{10};

int fail(CtlExit code, const std::string& what) {
  std::fprintf(stderr, "lastack ctl: %s\n", what.c_str());
  return static_cast<int>(code);
}
}  // namespace

int command_ctl(const CtlCommand& cmd) {
  std::string request;
  try {
    request = control_request_from_words(cmd.words);
  } catch (const InputError& e) {
    std::fprintf(stderr, "lastack %s\n", e.what());  // "lastack ctl fault add: give the fault as ..."
    return static_cast<int>(CtlExit::bad_input);
  }
  const char* env = std::getenv("LASTACK_CONTROL");
  const std::string path = cmd.control ? *cmd.control : env ? env : "";
  if (path.empty())
    return fail(CtlExit::no_socket, "no control socket: LASTACK_CONTROL is not set (run under `lastack exec --control` "
                                    "or `lastack wrap --control`, or give --control PATH)");
  const sys::ControlAnswer answer = sys::control_exchange(path, request, kReplyTimeout);
  if (answer.failure != sys::ControlFailure::none) return fail(CtlExit::no_socket, answer.line);
  const nlohmann::json reply = nlohmann::json::parse(answer.line, nullptr, false);
  if (!reply.is_object() || !reply.contains("ok") || !reply["ok"].is_boolean())
    return fail(CtlExit::no_socket, fmt::format("{} answered something that is not a reply: {}", path, answer.line));
  const std::string message = reply.value("message", std::string());
  if (!reply["ok"].get<bool>()) return fail(CtlExit::refused, message);
  std::printf("%s\n", cmd.json ? answer.line.c_str() : message.c_str());
  std::fflush(stdout);
  return static_cast<int>(CtlExit::ok);
}

}  // namespace lastack
