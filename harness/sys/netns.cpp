#include "harness/sys/netns.hpp"

#include <fcntl.h>
#include <sched.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "harness/core/error.hpp"

namespace lastack::sys {

void throw_errno(const char* what) {
  throw HarnessError(std::string(what) + ": " + std::strerror(errno));
}

namespace {
UniqueFd open_thread_netns() {
  UniqueFd fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) throw_errno("open /proc/thread-self/ns/net");
  return fd;
}
}  // namespace

NetNamespace NetNamespace::create() {
  UniqueFd previous = open_thread_netns();
  if (::unshare(CLONE_NEWNET) != 0) {
    if (errno == EPERM)
      throw EnvironmentError(
          "cannot create a network namespace (EPERM): run as root, or allow unprivileged user "
          "namespaces (sysctl kernel.unprivileged_userns_clone=1)");
    throw_errno("unshare(CLONE_NEWNET)");
  }
  UniqueFd created = open_thread_netns();
  if (::setns(previous.get(), CLONE_NEWNET) != 0) throw_errno("setns back to the original namespace");
  return NetNamespace(std::move(created));
}

NetNamespace NetNamespace::current() { return NetNamespace(open_thread_netns()); }

NetnsScope::NetnsScope(const NetNamespace& ns) : previous_(open_thread_netns()) {
  if (::setns(ns.fd(), CLONE_NEWNET) != 0) throw_errno("setns into a lab namespace");
}

NetnsScope::~NetnsScope() {
  // Failing to return would leave later sockets in the wrong namespace: nothing sane remains.
  if (::setns(previous_.get(), CLONE_NEWNET) != 0) std::abort();
}

}  // namespace lastack::sys
