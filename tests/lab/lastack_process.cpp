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
}  // namespace

TempDir::TempDir(const std::string& tag)
    : path(std::filesystem::temp_directory_path() / ("lastack-" + tag + "-" + std::to_string(::getpid()))) {
  std::filesystem::create_directories(path);
}

TempDir::~TempDir() {
  std::error_code ec;  // a destructor must not throw: what cannot be removed stays in /tmp
  std::filesystem::remove_all(path, ec);
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

ProcessOutput run_lastack(const std::vector<std::string>& args) {
  std::vector<std::string> argv{lastack_bin(), "--policy-dir", LASTACK_POLICY_DIR};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv);
}

void require_passes_three_times(const std::string& policy, const std::vector<std::string>& extra) {
  // Side by side: three labs at once share nothing, and the timer-bound policies (syn-timeout waits
  // 7 s for its SYN retries) take a third of the time they take one after another.
  std::vector<std::string> args{"run", "--quiet", "--repeat", "3", "--jobs", "3"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(policy);
  auto r = run_lastack(args);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out.find("3 runs: 3 passed, 0 failed") != std::string::npos);
}

}  // namespace lastack::test
