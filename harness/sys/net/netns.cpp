#include "harness/sys/net/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>

#include "lastack/error.hpp"

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

// A TCP hash table of this many buckets per lab namespace (tcp_child_ehash_entries): enough for
// thousands of connections, and a sock_diag dump walks it instead of the host's (262144 buckets
// on a 24 GiB machine: about a millisecond per dump, every 2 ms sample).
constexpr const char* kChildEhashEntries = "4096";

std::string read_proc(const char* path) {
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  char text[64] = {};
  if (!fd.valid() || ::read(fd.get(), text, sizeof text - 1) <= 0) return {};
  return text;
}

bool write_proc(const char* path, const std::string& value) {
  UniqueFd fd(::open(path, O_WRONLY | O_CLOEXEC));
  return fd.valid() && ::write(fd.get(), value.data(), value.size()) == static_cast<ssize_t>(value.size());
}

// The settings the kernel derives from the hash table's size when it makes a namespace: what a
// namespace sharing the host's table gets, restored in each lab namespace so its TCP behaves
// the same (tcp_set_hashinfo: SYN backlog = entries / 128, TIME_WAIT buckets = entries / 2).
constexpr const char* kSynBacklog = "/proc/sys/net/ipv4/tcp_max_syn_backlog";
constexpr const char* kTwBuckets = "/proc/sys/net/ipv4/tcp_max_tw_buckets";

/// The namespace lab namespaces are made from, once per process: made like them (so its own
/// table-derived settings are the shared table's), with tcp_child_ehash_entries set. Its fd
/// dies with the process. nullopt when this kernel lacks the setting: then namespaces are
/// made from the caller's and share the host's table, as before.
struct Parent {
  UniqueFd fd;
  std::string syn_backlog, tw_buckets;
};

const Parent* lab_parent() {
  static std::mutex mutex;
  static std::optional<Parent> parent;
  static bool tried = false;
  std::lock_guard<std::mutex> lock(mutex);
  if (tried) return parent ? &*parent : nullptr;
  tried = true;
  UniqueFd previous = open_thread_netns();
  if (::unshare(CLONE_NEWNET) != 0) return nullptr;  // create() reports the reason itself
  Parent p{open_thread_netns(), read_proc(kSynBacklog), read_proc(kTwBuckets)};
  const bool usable = !p.syn_backlog.empty() && !p.tw_buckets.empty() &&
                      write_proc("/proc/sys/net/ipv4/tcp_child_ehash_entries", kChildEhashEntries);
  if (::setns(previous.get(), CLONE_NEWNET) != 0) std::abort();  // later sockets would land in the wrong namespace
  if (usable) parent.emplace(std::move(p));
  return parent ? &*parent : nullptr;
}
}  // namespace

NetNamespace NetNamespace::create() {
  const Parent* parent = lab_parent();
  UniqueFd previous = open_thread_netns();
  if (parent && ::setns(parent->fd.get(), CLONE_NEWNET) != 0) throw_errno("setns into the lab parent namespace");
  if (::unshare(CLONE_NEWNET) != 0) {
    const int err = errno;
    if (::setns(previous.get(), CLONE_NEWNET) != 0) std::abort();
    if (err == EPERM)
      throw EnvironmentError(
          "cannot create a network namespace (EPERM): run as root, or allow unprivileged user "
          "namespaces (sysctl kernel.unprivileged_userns_clone=1)");
    errno = err;
    throw_errno("unshare(CLONE_NEWNET)");
  }
  UniqueFd created = open_thread_netns();
  const bool restored = !parent || (write_proc(kSynBacklog, parent->syn_backlog) &&
                                    write_proc(kTwBuckets, parent->tw_buckets));
  if (::setns(previous.get(), CLONE_NEWNET) != 0) throw_errno("setns back to the original namespace");
  if (!restored) throw HarnessError("a new namespace refused its SYN backlog or TIME_WAIT bucket setting");
  return NetNamespace(std::move(created));
}

NetNamespace NetNamespace::current() { return NetNamespace(open_thread_netns()); }

NetNamespace NetNamespace::share() const {
  UniqueFd copy(::fcntl(fd(), F_DUPFD_CLOEXEC, 0));
  if (!copy.valid()) throw_errno("dup a network namespace descriptor");
  return NetNamespace(std::move(copy));
}

NetnsScope::NetnsScope(const NetNamespace& ns) : previous_(open_thread_netns()) {
  if (::setns(ns.fd(), CLONE_NEWNET) != 0) throw_errno("setns into a lab namespace");
}

NetnsScope::~NetnsScope() {
  // Failing to return would leave later sockets in the wrong namespace: nothing sane remains.
  if (::setns(previous_.get(), CLONE_NEWNET) != 0) std::abort();
}

}  // namespace lastack::sys
