#pragma once
// TOML -> Policy, with validation. Every error is one line: "file:line: what is wrong".
#include <string>
#include <string_view>

#include "lastack/duration.hpp"  // parse_duration, which policy values use
#include "lastack/policy.hpp"

namespace lastack {

/// Parse and validate a policy from TOML text; `file` names it in errors.
/// Throws InputError("file:line: what is wrong") on the first problem found.
Policy parse_policy(std::string_view toml_text, const std::string& file);

/// Parse one agent step as a policy writes it ("send 1000", "sleep 50ms", "exit"), e.g. from
/// `lastack agent --step`. Throws InputError("file:line: what is wrong").
Step parse_agent_step(const std::string& text, const std::string& file, std::size_t line);

}  // namespace lastack
