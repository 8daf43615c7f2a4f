#pragma once
// The [link] table (and `--link`): latency, jitter, reorder, rate, queue, loss and duplicate for
// both directions, each overridable in [link.client-to-server] and [link.server-to-client].
#include <cstdint>
#include <string_view>

#include "harness/core/policy/policy_toml.hpp"
#include "lastack/policy.hpp"

namespace lastack::policy_toml {

/// A rate as a policy spells it, "8mbit", "1.5gbit", "100kbit", "9600bit" (powers of 1000, as
/// tc writes them), in bits per second (more than 0). Throws InputError(what) without a location.
std::uint64_t parse_rate(std::string_view text);

/// A size in bytes, "64kb", "1mb", "1500b" (kb = 1024 bytes, as tc writes them), more than 0.
/// Throws InputError(what) without a location.
std::uint64_t parse_size(std::string_view text);

/// The root's [link] table; nullopt when the policy has none. Problems are one `file:line:` each.
std::optional<Link> read_link(const TableReader& root);

/// `--link latency=50ms,jitter=10ms,rate=8mbit,...`: the same keys as [link], for both directions.
/// Throws InputError("--link: what") on a bad key or value.
Link parse_link_spec(std::string_view spec);

}  // namespace lastack::policy_toml
