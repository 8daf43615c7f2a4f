#pragma once
// The control protocol of `lastack exec --control` and `lastack wrap --control`: one JSON object
// per line in, one per line out. Pure: a request is read and checked here, with the policy's own
// readers for [[fault]] and [link], so its errors read as a policy's do; the engine applies it.
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "lastack/policy.hpp"

namespace lastack {

/// {"request": "fault add", "fault": {a [[fault]] table's keys}}: a fault on from now.
struct FaultAddRequest {
  FaultRule rule;
};
/// {"request": "fault remove", "id": N}: fault N (as `fault add` answered) off from now.
struct FaultRemoveRequest {
  std::size_t id = 0;
};
/// {"request": "link set", "link": {a [link] table's keys}}: the link becomes this from now
/// (a key not given changes nothing; {} is a plain wire).
struct LinkSetRequest {
  Link link;
};
/// {"request": "mark", "text": "..."}: a line in the trace at this moment, from the test.
struct MarkRequest {
  std::string text;
};
/// {"request": "status"}: the faults on, the link, the time into the run.
struct StatusRequest {};

/// One request, read.
struct ControlRequest {
  std::variant<FaultAddRequest, FaultRemoveRequest, LinkSetRequest, MarkRequest, StatusRequest> what;
  std::string name;      // "fault add", ...
  nlohmann::json given;  // the request as sent, for the trace (keys sorted on output)
};

/// The longest request line the run reads; a longer one is refused.
inline constexpr std::size_t control_line_limit = 64 * 1024;

/// One request line into a request. `timeout` is the run's (a fault's window past it never
/// opens). Throws InputError with one line and no location for anything else: not JSON, not an
/// object, an unknown request or field, a fault or link the policy's readers refuse
/// (`fault add: unknown key "fni" in [[fault]] (expected one of: ...)`).
ControlRequest parse_control_request(std::string_view line, Millis timeout);

/// The request `lastack ctl WORDS...` sends, as one JSON line without its newline:
/// `fault add KEY=VALUE...` (dotted keys for tables: `until.segment=fin`), `fault remove ID`,
/// `link set [KEY=VALUE...]` (`server-to-client.loss=0.1` for one direction), `mark TEXT...`,
/// `status`. A value is a boolean, an integer or a number when it reads as one, else a string.
/// Throws InputError (one line) for words that are not a request.
std::string control_request_from_words(const std::vector<std::string>& words);

/// One reply line with its newline: {"ok": OK, "message": MESSAGE, ...fields}. The message is
/// made one line (line breaks become spaces).
std::string control_reply(bool ok, std::string_view message, const nlohmann::json& fields = nlohmann::json::object());

}  // namespace lastack
