#include "lastack/policy_library.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "lastack/error.hpp"
#include "lastack/policy_parser.hpp"

namespace lastack {

namespace fs = std::filesystem;

namespace {
bool looks_like_path(const std::string& s) {
  return s.find('/') != std::string::npos || (s.size() > 5 && s.ends_with(".toml"));
}

std::vector<std::string> shipped_names(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".toml") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

Policy read_policy_file(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw InputError(file.string() + ": cannot read policy file");
  std::stringstream text;
  text << in.rdbuf();
  return parse_policy(text.str(), file.string());
}
}  // namespace

fs::path policy_dir(const fs::path& compiled_in) {
  if (const char* env = std::getenv("LASTACK_POLICY_DIR"); env && *env) return env;
  std::error_code ec;
  if (fs::is_directory(compiled_in, ec)) return compiled_in;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  return exe.parent_path().parent_path() / "share" / "lastack" / "policies";
}

fs::path installed_policy_dir(const fs::path& from_exe) {
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const auto dir = (exe.parent_path() / from_exe).lexically_normal();
  return fs::is_directory(dir, ec) ? dir : fs::path{};
}

Policy load_policy(const std::string& name_or_path, const fs::path& dir) {
  if (looks_like_path(name_or_path)) {
    if (!fs::exists(name_or_path)) throw InputError(name_or_path + ": no such policy file");
    return read_policy_file(name_or_path);
  }
  fs::path file = dir / (name_or_path + ".toml");
  if (!fs::exists(file)) {
    std::string known;
    for (const auto& n : shipped_names(dir)) known += (known.empty() ? "" : ", ") + n;
    throw InputError("unknown policy \"" + name_or_path + "\" (shipped: " + known + ")");
  }
  return read_policy_file(file);
}

std::vector<Policy> load_all_policies(const fs::path& dir) {
  std::vector<Policy> all;
  for (const auto& name : shipped_names(dir)) all.push_back(read_policy_file(dir / (name + ".toml")));
  if (all.empty()) throw EnvironmentError("no policies found in " + dir.string() + " (set LASTACK_POLICY_DIR)");
  return all;
}

}  // namespace lastack
