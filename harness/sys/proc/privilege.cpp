#include "lastack/privilege.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "lastack/error.hpp"
#include "harness/sys/proc/fd.hpp"

namespace lastack::sys {

namespace {

constexpr int cap_net_admin = 12;
constexpr int cap_sys_admin = 21;

std::string read_text_file(const char* path) {
  std::ifstream in(path);
  if (!in) throw_errno(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The effective capability set, from /proc/self/status "CapEff:".
std::uint64_t effective_capabilities() {
  std::istringstream status(read_text_file("/proc/self/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  }
  throw HarnessError("/proc/self/status has no CapEff line");
}

bool has_capability(std::uint64_t caps, int bit) { return (caps >> bit) & 1U; }

/// Write `text` to a /proc file in one write(), as uid_map and friends require.
void write_proc_file(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) throw_errno(("open " + path).c_str());
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw_errno(("write " + path).c_str());
}

void enter_user_namespace() {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
    if (errno == EINVAL)
      throw HarnessError("cannot create a user namespace: the process is already multi-threaded "
                         "(call enter_lab_privileges first thing in main)");
    throw EnvironmentError(std::string("cannot create a user namespace: ") + std::strerror(errno) +
                           ": run as root or enable unprivileged user namespaces (sysctl "
                           "kernel.unprivileged_userns_clone=1 / user.max_user_namespaces)");
  }
  // setgroups must be denied before an unprivileged process may write gid_map.
  write_proc_file("/proc/self/setgroups", "deny");
  write_proc_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
  write_proc_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
  // A network namespace of our own: a thread that enters a lab namespace must be able to come
  // back, and we have no rights over the host's. Made after the uid map, or its /proc/net files
  // would belong to the host's root.
  if (::unshare(CLONE_NEWNET) != 0) throw_errno("unshare(CLONE_NEWNET) in the user namespace");
  // Private mounts, so the /run tmpfs below is ours alone and dies with the process.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    throw_errno("make mounts private in the user namespace");
  // iptables takes /run/xtables.lock, which the host's root owns: give it a /run of our own.
  if (::mount("lastack-run", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") != 0)
    throw_errno("mount a private tmpfs on /run");
}

}  // namespace

PrivilegeMode enter_lab_privileges() {
  // After a first call we are uid 0 in our user namespace, so a second call lands here too.
  if (::geteuid() == 0) {
    const std::uint64_t caps = effective_capabilities();
    if (!has_capability(caps, cap_sys_admin) || !has_capability(caps, cap_net_admin))
      throw EnvironmentError(
          "running as root without CAP_SYS_ADMIN and CAP_NET_ADMIN (a restricted container?): "
          "lastack needs both to build network namespaces");
    return current_privilege_mode();
  }
  enter_user_namespace();
  return PrivilegeMode::user_namespace;
}

PrivilegeMode current_privilege_mode() {
  // The initial user namespace maps every uid to itself: "0 0 4294967295".
  std::istringstream map(read_text_file("/proc/self/uid_map"));
  std::uint64_t inside = 1, outside = 1, count = 0;
  map >> inside >> outside >> count;
  const bool initial = inside == 0 && outside == 0 && count == 4294967295ULL;
  return initial && ::geteuid() == 0 ? PrivilegeMode::root : PrivilegeMode::user_namespace;
}

std::string_view privilege_mode_name(PrivilegeMode mode) {
  switch (mode) {
    case PrivilegeMode::root:
      return "root";
    case PrivilegeMode::user_namespace:
      return "user namespace";
  }
  return "unknown";
}

}  // namespace lastack::sys
