#include "lastack_process.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace lastack::test {

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
// A verdict line that did not pass, or an error: worth reading before the whole output.
bool unhappy_line(const std::string& line) {
  for (const char* start : {"FAIL", "NOT CHECKED", "lastack:"})
    if (line.rfind(start, 0) == 0) return true;
  return line.find("harness error:") != std::string::npos;
}
}  // namespace

namespace {
// Each run of whitespace as one space.
std::string one_spaced(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t';
    if (!space) out += c;
    else if (out.empty() || out.back() != ' ') out += ' ';
  }
  return out;
}
}  // namespace

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos || one_spaced(text).find(one_spaced(part)) != std::string::npos;
}

std::ostream& operator<<(std::ostream& os, const ProcessOutput& output) {
  std::istringstream lines(output.out + output.err);
  std::string line, unhappy;
  bool continuing = false;  // a verdict's text wraps onto lines that start with spaces
  while (std::getline(lines, line)) {
    continuing = unhappy_line(line) || (continuing && line.rfind("  ", 0) == 0);
    if (continuing) unhappy += line + "\n";
  }
  if (!unhappy.empty()) os << "what did not pass:\n" << unhappy << "the whole output:\n";
  return os << output.out << output.err;
}

TempDir::TempDir(const std::string& tag)
    : path(std::filesystem::temp_directory_path() / ("lastack-" + tag + "-" + std::to_string(::getpid()))) {
  std::filesystem::create_directories(path);
}

TempDir::~TempDir() {
  std::error_code ec;  // a destructor must not throw: what cannot be removed stays in /tmp
  std::filesystem::remove_all(path, ec);
}

std::filesystem::path write_policy(const TempDir& dir, const std::string& name, const std::string& body) {
  const auto file = dir.path / (name + ".toml");
  std::ofstream(file) << "name = \"" << name << "\"\nsummary = \"" << name << "\"\n" << body;
  return file;
}

ProcessOutput run_process(const std::vector<std::string>& argv) {
  char out_path[] = "/tmp/lastack-test-outXXXXXX";
  char err_path[] = "/tmp/lastack-test-errXXXXXX";
  int out_fd = ::mkstemp(out_path), err_fd = ::mkstemp(err_path);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::_Exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ProcessOutput result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = slurp(out_path);
  result.err = slurp(err_path);
  ::close(out_fd);
  ::close(err_fd);
  ::unlink(out_path);
  ::unlink(err_path);
  return result;
}

std::string lastack_bin() { return LASTACK_BIN; }

namespace {
// The kernel observer's own miss: a tracepoint the BPF program never got (seen under load), so
// exec and wrap say the run proves nothing. `run` repeats such a run in a fresh lab by itself.
bool observer_missed(const ProcessOutput& o) {
  if (o.exit_code != 4) return false;
  const std::string all = o.out + o.err;
  for (const char* miss : {"retransmissions the kernel reported:", "the kernel skipped the BPF observer",
                           "the BPF ring buffer lost"})
    if (all.find(miss) != std::string::npos) return true;
  return false;
}
}  // namespace

ProcessOutput run_lastack(const std::vector<std::string>& args) {
  std::vector<std::string> argv{lastack_bin(), "--policy-dir", LASTACK_POLICY_DIR};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOutput out = run_process(argv);
  // As `run` does, a test repeats a run whose only fault was the observer's, and says so.
  for (int attempt = 2; attempt <= 3 && observer_missed(out); ++attempt) {
    WARN("attempt " << attempt - 1 << " discarded: the kernel observer missed events\n" << out);
    out = run_process(argv);
  }
  return out;
}

void require_passes_three_times(const std::string& policy, const std::vector<std::string>& extra) {
  // Side by side: three labs at once share nothing, and the timer-bound policies (syn-timeout waits
  // 7 s for its SYN retries) take a third of the time they take one after another.
  std::vector<std::string> args{"run", "--quiet", "--repeat", "3", "--jobs", "3"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(policy);
  auto r = run_lastack(args);
  INFO(r);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out.find("3 runs: 3 passed, 0 failed") != std::string::npos);
}

}  // namespace lastack::test
