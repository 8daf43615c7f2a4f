// The claim corpus (tests/claims/README.md): pairs of a true claim and its false twin about what
// the kernel does, each established without trusting lastack. lastack's verdict on every claim
// must be the true one: as root a true claim passes and its twin fails; unprivileged (states
// sampled) "not checked" is acceptable, the wrong word never is.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "lastack/oracle.hpp"
#include "lastack/privilege.hpp"
#include "tests/lab/lastack_process.hpp"

namespace fs = std::filesystem;
using lastack::Outcome;
using lastack::test::run_process;

namespace {

struct Claim {
  std::string text;
  bool truth = true;
  std::optional<std::string> undecidable;  // both claims of the pair are "not checked", on purpose
  bool may_go_unchecked = false;           // the kernel may give no word: its true verdict or "not checked"
  std::size_t line = 0;                    // its [[expect]] line in the composed policy
};

struct ClaimFile {
  std::string stem;                 // "b-reused-four-tuple"
  std::string about;
  std::string policy_name;
  std::string composed;             // the policy with every claim appended as an [[expect]] table
  std::vector<std::string> families;
  std::vector<Claim> claims;
};

// Flake hunts: LASTACK_CLAIM_ROUNDS=20 runs the corpus 20 times; LASTACK_CLAIM_EVERY_FAMILY=1 runs
// every file over IPv4 and IPv6, whatever its `families` says; LASTACK_CLAIM_BIN judges it with
// another lastack binary; LASTACK_CLAIM_ONLY=c- keeps the files whose name starts so.
std::size_t rounds() {
  const char* n = std::getenv("LASTACK_CLAIM_ROUNDS");
  return n ? std::max<std::size_t>(1, std::strtoul(n, nullptr, 10)) : 1;
}

bool runs_in(const std::vector<std::string>& families, const std::string& family) {
  if (const char* every = std::getenv("LASTACK_CLAIM_EVERY_FAMILY"); every && std::string(every) == "1") return true;
  return std::find(families.begin(), families.end(), family) != families.end();
}

std::size_t lines_in(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

// Reads one corpus file and composes its policy: each claim's [[expect]] line is recorded, which
// is the line its verdicts carry.
ClaimFile load(const fs::path& path) {
  const toml::table t = toml::parse_file(path.string());
  ClaimFile f;
  f.stem = path.stem().string();
  f.about = t["about"].value_or(std::string());
  f.composed = t["policy"].value_or(std::string());
  if (!f.composed.empty() && f.composed.back() != '\n') f.composed += '\n';
  f.policy_name = toml::parse(f.composed)["name"].value_or(std::string());
  if (const auto* families = t["families"].as_array())
    for (const auto& family : *families) f.families.push_back(family.value_or(std::string()));
  if (f.families.empty()) f.families = {"ipv4", "ipv6"};
  const auto add = [&](const std::string& text, bool truth, std::optional<std::string> undecidable,
                       bool may_go_unchecked) {
    f.composed += "\n";
    Claim c{text, truth, std::move(undecidable), may_go_unchecked, lines_in(f.composed) + 1};
    f.composed += "[[expect]]\n" + text;
    if (f.composed.back() != '\n') f.composed += '\n';
    f.claims.push_back(std::move(c));
  };
  if (const auto* pairs = t["pair"].as_array())
    for (const auto& node : *pairs) {
      const toml::table& pair = *node.as_table();
      const auto undecidable = pair["undecidable"].value<std::string>();
      const bool may_go_unchecked = pair["may-go-unchecked"].value<std::string>().has_value();
      add(pair["true-claim"].value_or(std::string()), true, undecidable, may_go_unchecked);
      add(pair["false-claim"].value_or(std::string()), false, undecidable, may_go_unchecked);
    }
  return f;
}

std::vector<ClaimFile> corpus() {
  std::vector<ClaimFile> out;
  const char* only = std::getenv("LASTACK_CLAIM_ONLY");
  for (const auto& entry : fs::directory_iterator(LASTACK_CLAIMS_DIR))
    if (entry.path().extension() == ".toml" && (!only || entry.path().stem().string().starts_with(only)))
      out.push_back(load(entry.path()));
  std::sort(out.begin(), out.end(), [](const ClaimFile& a, const ClaimFile& b) { return a.stem < b.stem; });
  return out;
}

// The worst outcome of the checks a claim's line produced (one per connection when judged on each).
std::map<std::size_t, Outcome> outcomes_by_line(const fs::path& trace) {
  std::map<std::size_t, Outcome> out;
  std::ifstream in(trace);
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j.value("type", "") != "check" || j.value("builtin", false)) continue;
    const auto outcome = *lastack::outcome_from_key(j.at("outcome").get<std::string>());
    const auto at = j.at("line").get<std::size_t>();
    const auto rank = [](Outcome o) { return o == Outcome::fail ? 3 : o == Outcome::not_checked ? 2 : o == Outcome::pass ? 1 : 0; };
    if (!out.count(at) || rank(outcome) > rank(out[at])) out[at] = outcome;
  }
  return out;
}

// The built-in invariants that failed: on the kernel's real behaviour none may (a model that
// forgot a setting the policy made, a harness error).
std::vector<std::string> failed_builtins(const fs::path& trace) {
  std::vector<std::string> out;
  std::ifstream in(trace);
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j.value("type", "") == "check" && j.value("builtin", false) && j.value("outcome", "") == "fail")
      out.push_back(j.value("name", "") + ": " + j.value("saw", ""));
  }
  return out;
}

// The sawtext of a claim's check, for a failure message.
std::string saw_of(const fs::path& trace, std::size_t at) {
  std::ifstream in(trace);
  std::string line, out;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j.value("type", "") == "check" && j.at("line").get<std::size_t>() == at)
      out += j.value("name", "") + ": " + j.value("outcome", "") + ": " + j.value("saw", "") + "\n";
  }
  return out;
}

// Runs every file of one family in one lastack invocation (two labs at a time), as root or as
// nobody through a user namespace; returns where the traces went.
fs::path run_family(const std::vector<ClaimFile>& files, const std::string& family, bool unprivileged) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("lastack-claims-{}-{}-{}", ::getpid(), family,
                                                              unprivileged ? "userns" : "root");
  fs::remove_all(dir);
  fs::create_directories(dir / "traces");
  fs::permissions(dir, fs::perms::all);
  fs::permissions(dir / "traces", fs::perms::all);
  std::vector<std::string> argv;
  if (unprivileged) argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  // LASTACK_CLAIM_BIN: judge the corpus with another build (an older lastack, to see what it got wrong).
  const char* other = std::getenv("LASTACK_CLAIM_BIN");
  argv.insert(argv.end(), {other ? std::string(other) : lastack::test::lastack_bin(), "run", "-q", "-j", "4", "--json",
                           (dir / "traces").string() + "/"});
  if (family == "ipv6") argv.push_back("-6");
  for (const ClaimFile& f : files) {
    if (!runs_in(f.families, family)) continue;
    const fs::path policy = dir / (f.stem + ".toml");
    std::ofstream(policy) << f.composed;
    argv.push_back(policy.string());
  }
  const auto r = run_process(argv);
  INFO(r.out.substr(r.out.size() > 4000 ? r.out.size() - 4000 : 0) << r.err);
  // 0: every claim passed, 1: a false one failed, 5: one was not checked; 2, 3, 4 are errors.
  CHECK((r.exit_code == 0 || r.exit_code == 1 || r.exit_code == 5));
  return dir;
}

// Every claim's verdict against its truth; the wrong word is listed with what lastack saw.
void judge_family_once(const std::vector<ClaimFile>& files, const std::string& family, bool unprivileged) {
  const fs::path dir = run_family(files, family, unprivileged);
  std::size_t judged = 0;
  std::vector<std::string> wrong;
  for (const ClaimFile& f : files) {
    if (!runs_in(f.families, family)) continue;
    const fs::path trace = dir / "traces" / (f.policy_name + ".jsonl");
    if (!fs::exists(trace)) {
      wrong.push_back(fmt::format("{}: no trace (the run did not finish)", f.stem));
      continue;
    }
    for (const auto& builtin : failed_builtins(trace))
      wrong.push_back(fmt::format("{} ({}): built-in {}", f.stem, f.about, builtin));
    const auto outcomes = outcomes_by_line(trace);
    for (const Claim& c : f.claims) {
      ++judged;
      const auto it = outcomes.find(c.line);
      const Outcome got = it == outcomes.end() ? Outcome::not_applicable : it->second;
      const Outcome want = c.undecidable ? Outcome::not_checked : c.truth ? Outcome::pass : Outcome::fail;
      const bool acceptable = got == want || ((unprivileged || c.may_go_unchecked) && got == Outcome::not_checked);
      if (!acceptable)
        wrong.push_back(fmt::format("{} ({}), {} claim at line {}: want {}, got {}\n{}\n{}", f.stem, f.about,
                                    c.truth ? "true" : "false", c.line, lastack::outcome_key(want),
                                    lastack::outcome_key(got), c.text, saw_of(trace, c.line)));
    }
  }
  CHECK(judged > 0);
  for (const auto& w : wrong) UNSCOPED_INFO(w);
  CHECK(wrong.empty());
  if (wrong.empty()) fs::remove_all(dir);
}

void judge_family(const std::vector<ClaimFile>& files, const std::string& family, bool unprivileged) {
  for (std::size_t round = 0; round < rounds(); ++round) judge_family_once(files, family, unprivileged);
}

}  // namespace

TEST_CASE("the claim corpus holds at least 60 pairs, each a true claim and its false twin", "[claims]") {
  std::size_t pairs = 0, helper = 0;
  for (const ClaimFile& f : corpus()) {
    CHECK(!f.policy_name.empty());
    CHECK(f.claims.size() % 2 == 0);
    pairs += f.claims.size() / 2;
    if (f.stem.rfind("a-", 0) == 0 || f.stem.rfind("b-", 0) == 0) helper += f.claims.size() / 2;
  }
  CHECK(pairs >= 60);
  CHECK(2 * helper >= pairs);  // half of them by writers who never read the oracle's code
}

TEST_CASE("every claim of the corpus gets its true verdict, IPv4, as root", "[claims][ipv4]") {
  if (lastack::sys::current_privilege_mode() != lastack::sys::PrivilegeMode::root) {
    SUCCEED("unprivileged: the user-namespace test below covers it");
    return;
  }
  judge_family(corpus(), "ipv4", false);
}

TEST_CASE("every claim of the corpus gets its true verdict, IPv6, as root", "[claims][ipv6]") {
  if (lastack::sys::current_privilege_mode() != lastack::sys::PrivilegeMode::root) {
    SUCCEED("unprivileged: the user-namespace test below covers it");
    return;
  }
  judge_family(corpus(), "ipv6", false);
}

TEST_CASE("unprivileged, no claim of the corpus gets the wrong verdict", "[claims][userns]") {
  if (lastack::sys::current_privilege_mode() != lastack::sys::PrivilegeMode::root) return;
  const auto files = corpus();
  judge_family(files, "ipv4", true);
  judge_family(files, "ipv6", true);
}
