#pragma once
// `lastack ctl`: one control request to a run started with --control, over its socket.
#include <optional>
#include <string>
#include <vector>

namespace lastack {

/// `lastack ctl`'s words and where to send them.
struct CtlCommand {
  std::vector<std::string> words;      // "fault", "add", "segment=data", ...
  std::optional<std::string> control;  // --control PATH; unset: $LASTACK_CONTROL
  bool json = false;                   // --json: print the reply line as it came
};

/// What `lastack ctl` exits with: apart for each way a request can fail.
enum class CtlExit : int {
  ok = 0,          // the run applied the request (or answered status)
  refused = 1,     // the run refused it (its message says why)
  bad_input = 2,   // the words are not a request (lastack's usual bad-input code)
  no_socket = 3,   // no control socket: LASTACK_CONTROL unset, nothing listening, or the run ended
};

/// Send the request `cmd` names and print the reply's message (or the whole line with --json);
/// errors go to stderr, one line each.
int command_ctl(const CtlCommand& cmd);

}  // namespace lastack
