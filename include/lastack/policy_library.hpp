#pragma once
// Finding policies: a shipped name ("drop-final-ack") or a path to a TOML file.
#include <filesystem>
#include <string>
#include <vector>

#include "lastack/policy.hpp"

namespace lastack {

/// Where shipped policies live: $LASTACK_POLICY_DIR, else the directory compiled in, else
/// ../share/lastack/policies next to the executable.
std::filesystem::path policy_dir(const std::filesystem::path& compiled_in);

/// The shipped policies of an installed program: `from_exe` (e.g. "../share/lastack/policies")
/// taken from the running executable's directory; empty when that is not a directory.
std::filesystem::path installed_policy_dir(const std::filesystem::path& from_exe);

/// Load one policy by shipped name or file path. Throws InputError ("unknown policy ...",
/// "file:line: ...") for anything wrong.
Policy load_policy(const std::string& name_or_path, const std::filesystem::path& dir);

/// Every shipped policy in `dir`, sorted by name.
std::vector<Policy> load_all_policies(const std::filesystem::path& dir);

}  // namespace lastack
