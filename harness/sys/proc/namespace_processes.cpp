#include "harness/sys/proc/namespace_processes.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "harness/sys/proc/fd.hpp"

namespace lastack::sys {

namespace {

bool same_namespace(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

std::string comm_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

std::vector<NamespaceProcess> processes_in(const NetNamespace& ns) {
  struct stat wanted {};
  if (::fstat(ns.fd(), &wanted) != 0) throw_errno("fstat a network namespace");
  std::vector<NamespaceProcess> out;
  DIR* proc = ::opendir("/proc");
  if (!proc) throw_errno("opendir /proc");
  const pid_t self = ::getpid();
  while (const dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == self) continue;
    struct stat seen {};
    const std::string link = "/proc/" + std::string(entry->d_name) + "/ns/net";
    if (::stat(link.c_str(), &seen) != 0 || !same_namespace(seen, wanted)) continue;
    out.push_back({static_cast<pid_t>(pid), comm_of(static_cast<pid_t>(pid))});
  }
  ::closedir(proc);
  std::sort(out.begin(), out.end(), [](const NamespaceProcess& a, const NamespaceProcess& b) { return a.pid < b.pid; });
  return out;
}

std::vector<NamespaceProcess> end_processes_in(const NetNamespace& ns, int attempts) {
  std::vector<NamespaceProcess> ended;
  for (int i = 0; i < attempts; ++i) {
    const auto left = processes_in(ns);
    if (left.empty()) break;
    for (const NamespaceProcess& p : left) {
      if (::kill(p.pid, SIGKILL) != 0 && errno != ESRCH) continue;
      if (std::none_of(ended.begin(), ended.end(), [&](const NamespaceProcess& e) { return e.pid == p.pid; }))
        ended.push_back(p);
    }
    // A killed process leaves /proc only once reaped (zombies keep their ns link until then).
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return ended;
}

}  // namespace lastack::sys
